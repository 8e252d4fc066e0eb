import {describe, expect, it} from 'vitest';
import {algorithmOf, isDigest} from '../src/digest.js';

describe('content digests', () => {
  it('takes the algorithms go-digest verifies, each with its length of lowercase hex', () => {
    for (const digest of [`sha256:${'a'.repeat(64)}`, `sha384:${'0'.repeat(96)}`, `sha512:${'f'.repeat(128)}`]) {
      expect(isDigest(digest), digest).toBe(true);
      expect(algorithmOf(digest)).toBe(digest.split(':')[0]);
    }
  });

  it('refuses another algorithm, another length, upper case, and what only looks like one', () => {
    for (const text of [
      `md5:${'a'.repeat(32)}`,
      `sha256:${'a'.repeat(63)}`,
      `sha256:${'A'.repeat(64)}`,
      `sha256:${'a'.repeat(64)}/../x`,
      `sha256-${'a'.repeat(64)}`,
      `:${'a'.repeat(64)}`,
      'sha256:',
      'latest',
    ])
      expect(isDigest(text), text).toBe(false);
  });
});
