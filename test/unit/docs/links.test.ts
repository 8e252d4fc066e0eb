import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {join, posix} from 'node:path';
import {fileURLToPath} from 'node:url';
import GithubSlugger from 'github-slugger';
import markdownIt, {type Token} from 'markdown-it';
import {describe, expect, it} from 'vitest';

/**
 * Every relative link in the repository's Markdown (README.md, SECURITY.md, docs/, the packages'
 * READMEs, bench/) points at a file that exists, and every `#anchor` at a heading of its target, as
 * GitHub renders them: markdown-it finds the links and headings (not in code), github-slugger makes
 * the heading ids GitHub makes.
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const markdown = markdownIt();

interface Link {
  href: string;
  line: number;
}

interface Parsed {
  links: Link[];
  anchors: Set<string>;
}

/** The text of a heading as GitHub slugs it: its text and code, without the Markdown around them. */
function plainText(inline: Token): string {
  return (inline.children ?? [])
    .filter((child) => child.type === 'text' || child.type === 'code_inline')
    .map((child) => child.content)
    .join('');
}

function parseMarkdown(source: string): Parsed {
  const tokens = markdown.parse(source, {});
  const links: Link[] = [];
  const anchors = new Set<string>();
  const slugger = new GithubSlugger();
  // The line a token starts on: blocks know theirs (a table's cells only through their row), and
  // inside a paragraph each line break counts one more.
  let line = 1;
  tokens.forEach((token, index) => {
    if (token.map) line = token.map[0] + 1;
    if (token.type === 'heading_open') {
      const inline = tokens[index + 1];
      if (inline?.type === 'inline') anchors.add(slugger.slug(plainText(inline)));
    }
    if (token.type !== 'inline') return;
    let childLine = line;
    for (const child of token.children ?? []) {
      if (child.type === 'softbreak' || child.type === 'hardbreak') childLine += 1;
      const href = child.type === 'link_open' ? child.attrGet('href') : child.type === 'image' ? child.attrGet('src') : null;
      if (href !== null) links.push({href: String(href), line: childLine});
    }
  });
  return {links, anchors};
}

/** Where the checked files live: paths relative to the repository's root, with `/`. */
interface Files {
  read(path: string): string;
  exists(path: string): boolean;
}

const REPOSITORY: Files = {
  read: (path) => readFileSync(join(ROOT, path), 'utf8'),
  exists: (path) => existsSync(join(ROOT, path)),
};

/** What is wrong with the links of `file`, one line each. */
function brokenLinks(file: string, files: Files = REPOSITORY): string[] {
  const cache = new Map<string, Parsed>();
  const parsed = (path: string): Parsed => {
    let result = cache.get(path);
    if (!result) cache.set(path, (result = parseMarkdown(files.read(path))));
    return result;
  };
  const problems: string[] = [];
  for (const {href, line} of parsed(file).links) {
    // Links with a scheme (https:, mailto:) or to another host are not this repository's to check.
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue;
    const hash = href.indexOf('#');
    const pathPart = decodeURIComponent(hash === -1 ? href : href.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(href.slice(hash + 1));
    // GitHub resolves a leading / from the repository's root, anything else from the file's folder.
    const target =
      pathPart === '' ? file : posix.normalize(pathPart.startsWith('/') ? pathPart.slice(1) : posix.join(posix.dirname(file), pathPart));
    const where = `${file}:${line}: ${href}`;
    if (target.startsWith('..') || !files.exists(target)) {
      problems.push(`${where}: no file ${target}`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!target.endsWith('.md')) {
      problems.push(`${where}: an anchor into ${target}, which is not Markdown`);
      continue;
    }
    if (!parsed(target).anchors.has(anchor)) problems.push(`${where}: no heading #${anchor} in ${target}`);
  }
  return problems;
}

/** The Markdown files git knows of (tracked, or new and not ignored), relative to the root with `/`. */
function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '*.md'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  // git names them with `/` on every system; a file deleted but not yet committed is left out.
  return [...new Set(out.split('\0'))].filter((path) => path !== '' && existsSync(join(ROOT, path))).sort();
}

describe('links in the Markdown files', () => {
  it('resolve: every relative link to a file, every #anchor to a heading of its target', () => {
    const files = markdownFiles();
    for (const expected of ['README.md', 'SECURITY.md', 'packages/hub-auth/README.md', 'docs/architecture.md', 'bench/RESULTS.md']) {
      expect(files, expected).toContain(expected);
    }
    expect(files.flatMap((file) => brokenLinks(file))).toEqual([]);
  });

  it('are found broken: a missing file, a missing heading, an anchor into a file that is not Markdown', () => {
    const fixture: Record<string, string> = {
      'docs/a.md': [
        '# A page',
        '',
        '## Plain docker, through `docker-credential-hub`',
        '',
        '[ok](#plain-docker-through-docker-credential-hub), [ok](b.md#the-parts-name) and [ok](../README.md)',
        '[gone](c.md), [no heading](b.md#nowhere), [ok too](/docs/b.md#the-parts-name-1), [folder](.)',
        '',
        '| table | with |',
        '| --- | --- |',
        '| [a link](b.md#elsewhere) | `[not a link](x.md)` |',
        '',
        '```',
        '[in code](x.md)',
        '```',
        '[source](b.ts#L1) ![picture](missing.png) [web](https://example.com/x.md) <https://example.com/y>',
      ].join('\n'),
      'docs/b.md': "# B\n\n## The part's name\n\n## The part's name\n",
      'docs/b.ts': 'export {};\n',
      'README.md': '# hub\n',
    };
    const problems = brokenLinks('docs/a.md', {
      read: (path) => fixture[path] ?? '',
      exists: (path) => path in fixture || path === 'docs',
    });
    expect(problems).toEqual([
      'docs/a.md:6: c.md: no file docs/c.md',
      'docs/a.md:6: b.md#nowhere: no heading #nowhere in docs/b.md',
      'docs/a.md:10: b.md#elsewhere: no heading #elsewhere in docs/b.md',
      'docs/a.md:15: b.ts#L1: an anchor into docs/b.ts, which is not Markdown',
      'docs/a.md:15: missing.png: no file docs/missing.png',
    ]);
  });
});
