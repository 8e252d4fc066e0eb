import {describe, expect, it} from 'vitest';
import {orderedTags, repositoryContent, tagOrderOf, type TagSummary} from '../../src/pages/repository.js';

const tag = (name: string, ...created: Array<string | undefined>): TagSummary => ({
  tag: name,
  digest: `sha256:${'0'.repeat(64)}`,
  referrers: [],
  platforms: created.map((at) => ({platform: 'linux/amd64', digest: `sha256:${'1'.repeat(64)}`, size: 1234, created: at})),
});

const NOW = 1_900_000_000;

describe("a repository's tags", () => {
  const tags = [
    tag('v2', '2026-03-01T00:00:00Z'),
    tag('latest', '2026-01-01T00:00:00Z', '2026-05-01T00:00:00Z'),
    tag('old', undefined),
    tag('v1', '2026-02-01T00:00:00Z'),
  ];

  it('are listed by name, or the most recently created first (an index by its newest platform), unknown times last', () => {
    expect(orderedTags(tags, 'name').map((t) => t.tag)).toEqual(['latest', 'old', 'v1', 'v2']);
    expect(orderedTags(tags, 'created').map((t) => t.tag)).toEqual(['latest', 'v2', 'v1', 'old']);
    expect([tagOrderOf('created'), tagOrderOf('name'), tagOrderOf('<x>'), tagOrderOf(undefined)]).toEqual([
      'created',
      'name',
      'name',
      'name',
    ]);
  });

  it('the page keeps the filter and the order chosen in its form, and says when nothing matches', () => {
    const shown = repositoryContent('registry.example', 'alice/app', {tags: [], filter: 'rc"><b>', order: 'created', moreTags: 0}).text;
    expect(shown).toContain('value="rc&quot;&gt;&lt;b&gt;"');
    expect(shown).toMatch(/<option value="created" selected>/);
    expect(shown).toContain('No tag matches the filter.');
    expect(repositoryContent('registry.example', 'alice/app', {tags: [], filter: '', order: 'name', moreTags: 0}).text).toContain(
      'This repository has no tags.',
    );
  });

  it('each tag has its platforms, sizes and the pull commands by tag and by digest', () => {
    const shown = repositoryContent('registry.example', 'alice/app', {
      tags: [tag('v1', '2026-02-01T00:00:00Z')],
      filter: '',
      order: 'name',
      moreTags: 3,
    }).text;
    expect(shown).toContain('1.23 kB (1234 bytes)');
    expect(shown).toContain('2026-02-01 00:00:00 UTC');
    expect(shown).toContain('hub pull registry.example/alice/app:v1');
    expect(shown).toContain(`docker pull registry.example/alice/app@sha256:${'0'.repeat(64)}`);
    expect(shown).toContain('3 more tags are not shown');
  });

  it('lists the pushes and deletes the registry told of, newest first, and the pulls; names from the registry are text', () => {
    const listing = {tags: [], filter: '', order: 'name' as const, moreTags: 0};
    const digest = `sha256:${'1'.repeat(64)}`;
    const events = [
      {action: 'delete' as const, at: NOW + 60, tag: undefined, digest, size: 0, by: 'bob'},
      {action: 'push' as const, at: NOW, tag: 'v1', digest, size: 10, by: '<i>alice</i>'},
    ];
    const shown = repositoryContent('registry.example', 'alice/app', listing, {events, pulls: 3}).text.replace(/\s+/g, ' ');
    expect(shown).toContain('Pulled 3 times, as the registry reports it.');
    expect(shown.indexOf('deleted')).toBeLessThan(shown.indexOf('pushed'));
    expect(shown).toContain('&lt;i&gt;alice&lt;/i&gt;');
    expect(shown).toContain(`<a href="/web/repositories/alice/app/-/images/${encodeURIComponent(digest)}">`);
    expect(repositoryContent('registry.example', 'alice/app', listing).text).toContain('No push recorded yet.');
  });

  it('says what is attached to a tag: its signature, SBOM or other artifacts', () => {
    const listing = {
      tags: [{...tag('v1', undefined), referrers: ['signature', 'SBOM', 'artifact'] as const}],
      filter: '',
      order: 'name' as const,
      moreTags: 0,
    };
    expect(repositoryContent('registry.example', 'alice/app', listing).text).toContain('Attached: signature, SBOM, more on the image page');
    expect(repositoryContent('registry.example', 'alice/app', {...listing, tags: [tag('v1', undefined)]}).text).not.toContain('Attached');
  });

  it('says whether the person may push here, as the policy has it', () => {
    const listing = {tags: [], filter: '', order: 'name' as const, moreTags: 0};
    expect(repositoryContent('registry.example', 'alice/app', {...listing, mayPush: true}).text).toContain(
      'You may pull and push here: <code>hub push registry.example/alice/app:TAG</code>',
    );
    expect(repositoryContent('registry.example', 'public/base', listing).text).toContain('You may pull from here; pushing is for others.');
  });
});
