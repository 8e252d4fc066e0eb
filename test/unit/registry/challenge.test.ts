import {describe, expect, it} from 'vitest';
import {parseChallenge} from '../../../src/registry/challenge.js';

describe('parseChallenge', () => {
  it('reads a registry’s Bearer challenge', () => {
    expect(
      parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"'),
    ).toEqual({
      scheme: 'bearer',
      params: {realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull'},
    });
  });

  it('takes tokens, escapes, spaces and the first of repeated parameters', () => {
    expect(parseChallenge('Basic realm=hub , charset="UTF-8"')).toEqual({scheme: 'basic', params: {realm: 'hub', charset: 'UTF-8'}});
    expect(parseChallenge('Bearer realm="a\\"b"')?.params.realm).toBe('a"b');
    expect(parseChallenge('Bearer realm="first",realm="second"')?.params.realm).toBe('first');
    expect(parseChallenge('Bearer')).toEqual({scheme: 'bearer', params: {}});
  });

  it.each(['', '"quoted"', 'Bearer realm="unterminated', 'Bearer realm', 'Bearer =x', 'x'.repeat(5000)])('gives up on %j', (header) => {
    expect(parseChallenge(header)).toBeUndefined();
  });
});
