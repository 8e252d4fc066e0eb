import {describe, expect, it} from 'vitest';
import {unreachable} from '../../../src/registry/http.js';

describe('a registry hub cannot reach', () => {
  it('that did not answer in time is said to have not answered within 30 s', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const error = unreachable(new URL('https://r.example.com/v2/'), new TypeError('fetch failed', {cause: timeout}));
    expect(error.message).toBe('Cannot reach r.example.com: it did not answer within 30 s.');
  });
});
