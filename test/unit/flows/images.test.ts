import {describe, expect, it} from 'vitest';
import {imageLines, nothingToList} from '../../../src/flows/images.js';

describe('what hub images prints', () => {
  it('one image a line, and nothing said besides', () => {
    const result = {registry: 'r.example.com', repositories: [{name: 'alice/app'}, {name: 'team/api', tags: ['1.0', '2.0']}]};
    expect(imageLines(result)).toEqual(['r.example.com/alice/app', 'r.example.com/team/api:1.0', 'r.example.com/team/api:2.0']);
    expect(nothingToList(result)).toBeUndefined();
  });

  it('says so when the user may pull nothing, or a repository has no tags, instead of printing nothing', () => {
    expect(imageLines({registry: 'r.example.com', repositories: []})).toEqual([]);
    expect(nothingToList({registry: 'r.example.com', repositories: []})).toBe('There is nothing on r.example.com that you may pull.');
    expect(nothingToList({registry: 'r.example.com', repositories: [{name: 'alice/app', tags: []}]})).toBe(
      'r.example.com/alice/app has no tags.',
    );
  });
});
