import {describe, expect, it} from 'vitest';
import {PAGE_SIZE, repositoriesContent, repositoryListing} from '../../src/pages/repositories.js';

const names = Array.from({length: PAGE_SIZE * 2 + 5}, (_, index) => `team/app-${String(index).padStart(4, '0')}`);
const text = (page: number, filter = '') => repositoriesContent(repositoryListing(names, filter, page)).text.replace(/\s+/g, ' ');

describe('the repositories list', () => {
  it('comes in pages, with links to the pages before and after that keep the filter', () => {
    expect(text(1)).toContain(`${names.length} of ${names.length} repositories, page 1 of 3.`);
    expect(text(1)).toContain('team/app-0000');
    expect(text(1)).not.toContain(`team/app-${String(PAGE_SIZE).padStart(4, '0')}`);
    expect(text(1)).toContain('<a rel="next" href="/web/?q=&amp;page=2">Next page</a>');
    expect(text(1)).not.toContain('Previous page');
    expect(text(3)).toContain('team/app-0404');
    expect(text(3)).toContain('<a rel="prev" href="/web/?q=&amp;page=2">Previous page</a>');
    expect(text(2, 'app-0')).toContain('href="/web/?q=app-0&amp;page=1"');
  });

  it('a page past the last, or no number, shows the nearest page', () => {
    expect(text(99)).toContain('page 3 of 3');
    expect(text(Number.NaN)).toContain('page 1 of 3');
    expect(repositoriesContent(repositoryListing(['a/b'], '', 1)).text).not.toContain('<nav');
  });

  it("shows each repository's tags count and last push, when and by whom, as the registry told of it; an account name is text", () => {
    const push = {action: 'push' as const, at: 1_900_000_000, tag: 'v1', digest: 'sha256:abc', size: 1, by: '<b>alice</b>'};
    const summaries = new Map([
      ['alice/app', {tags: 3, lastPush: push}],
      ['bob/tool', {tags: 1, lastPush: undefined}],
    ]);
    const shown = repositoriesContent(repositoryListing(['alice/app', 'bob/tool', 'carol/new'], ''), summaries).text;
    expect(shown).toContain('3 tags, last pushed 2030-03-17 17:46:40 UTC by &lt;b&gt;alice&lt;/b&gt;');
    expect(shown).toContain('bob/tool</a> <span class="muted">1 tag</span>');
    expect(shown.match(/last pushed/g)).toHaveLength(1);
    expect(shown).toContain('carol/new</a></li>');
  });
});
