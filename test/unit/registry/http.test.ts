import {describe, expect, it} from 'vitest';
import {send, unreachable} from '../../../src/registry/http.js';

describe('a registry hub cannot reach', () => {
  it('on a port browsers block (10080) is said to be refused by Node, with another port to use, not "bad port"', async () => {
    const error = await send('http://127.0.0.1:10080/v2/', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({code: 'unreachable'});
    expect((error as Error).message).toBe(
      "hub cannot connect to 127.0.0.1:10080: port 10080 is one that browsers block, and Node's fetch, which hub uses, refuses it (docker does not).",
    );
    expect((error as Error).message).not.toContain('bad port');
  });

  it('that did not answer in time is said to have not answered within 30 s', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const error = unreachable(new URL('https://r.example.com/v2/'), new TypeError('fetch failed', {cause: timeout}));
    expect(error.message).toBe('Cannot reach r.example.com: it did not answer within 30 s.');
  });
});
