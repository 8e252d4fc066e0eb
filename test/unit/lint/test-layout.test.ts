import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Where a unit test's subject lives: the CLI's tests under test/unit mirror src, a package's
 * under packages/X/test (hub-auth's under packages/hub-auth/test/unit) mirror packages/X/src.
 * The lint rules' tests test scripts/lint, the docs' test the Markdown files, and hub-auth's
 * deploy tests its deploy folder.
 */
function subjectFolder(test: string): string {
  const folder = dirname(test);
  if (folder.startsWith('test/unit')) {
    const mirrored = relative('test/unit', folder);
    return mirrored === 'lint' ? 'scripts/lint' : mirrored === 'docs' ? 'docs' : join('src', mirrored);
  }
  const [, name] = folder.split('/') as [string, string];
  const tests = join('packages', name, name === 'hub-auth' ? 'test/unit' : 'test');
  if (!`${folder}/`.startsWith(`${tests}/`)) return join('packages', name, relative(join('packages', name, 'test'), folder));
  return join('packages', name, 'src', relative(tests, folder));
}

describe('the unit tests sit where their subjects do', () => {
  const tests = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'test/unit', ':(glob)packages/*/test/**'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((path) => path.endsWith('.test.ts'));

  it('finds the tests', () => {
    expect(tests.length).toBeGreaterThan(50);
  });

  it.each(tests)('%s is in the folder of what it tests', (test) => {
    expect(existsSync(join(ROOT, subjectFolder(test))), subjectFolder(test)).toBe(true);
  });
});
