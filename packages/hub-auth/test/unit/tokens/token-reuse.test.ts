import {describe, expect, it} from 'vitest';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import {createTokenReuse} from '../../../src/tokens/token-reuse.js';

type Signed = {token: string; issuedAt: number; expiresAt: number};

/** No credential that ends before the token would. */
const FAR = Number.POSITIVE_INFINITY;

const pull: ResourceScope[] = [{type: 'repository', name: 'alice/app', actions: ['pull']}];
const push: ResourceScope[] = [{type: 'repository', name: 'alice/app', actions: ['pull', 'push']}];

/** A signer that numbers its tokens, so that a test sees which request signed anew. */
function counting() {
  let signed = 0;
  return {
    count: () => signed,
    at:
      (now: number, expiresAt = now + 300) =>
      (): Signed => ({token: `token-${++signed}`, issuedAt: now, expiresAt}),
  };
}

describe('token reuse', () => {
  it('hands out the token signed for the same subject and access within the window', () => {
    const reuse = createTokenReuse<Signed>({windowSeconds: 5, maxEntries: 100});
    const signer = counting();
    const first = reuse.tokenFor('alice', pull, 1000, FAR, signer.at(1000));
    expect(reuse.tokenFor('alice', [...pull], 1004, FAR, signer.at(1004))).toBe(first);
    expect(signer.count()).toBe(1);
  });

  it('signs anew once the window has passed, and keeps the new token', () => {
    const reuse = createTokenReuse<Signed>({windowSeconds: 5, maxEntries: 100});
    const signer = counting();
    reuse.tokenFor('alice', pull, 1000, FAR, signer.at(1000));
    const second = reuse.tokenFor('alice', pull, 1005, FAR, signer.at(1005));
    expect(second.token).toBe('token-2');
    expect(reuse.tokenFor('alice', pull, 1006, FAR, signer.at(1006))).toBe(second);
  });

  it('never shares a token between subjects or between different access', () => {
    const reuse = createTokenReuse<Signed>({windowSeconds: 5, maxEntries: 100});
    const signer = counting();
    const tokens = [
      reuse.tokenFor('alice', pull, 1000, FAR, signer.at(1000)),
      reuse.tokenFor('bob', pull, 1000, FAR, signer.at(1000)),
      reuse.tokenFor('alice', push, 1000, FAR, signer.at(1000)),
      reuse.tokenFor('alice', [], 1000, FAR, signer.at(1000)),
      reuse.tokenFor('', pull, 1000, FAR, signer.at(1000)),
    ].map((grant) => grant.token);
    expect(new Set(tokens).size).toBe(5);
  });

  it('signs anew when the clock went back', () => {
    const reuse = createTokenReuse<Signed>({windowSeconds: 5, maxEntries: 100});
    const signer = counting();
    reuse.tokenFor('alice', pull, 1000, FAR, signer.at(1000));
    expect(reuse.tokenFor('alice', pull, 999, FAR, signer.at(999)).token).toBe('token-2');
  });

  it('signs every token with a window of 0', () => {
    const reuse = createTokenReuse<Signed>({windowSeconds: 0, maxEntries: 100});
    const signer = counting();
    reuse.tokenFor('alice', pull, 1000, FAR, signer.at(1000));
    reuse.tokenFor('alice', pull, 1000, FAR, signer.at(1000));
    expect(signer.count()).toBe(2);
  });

  it('keeps at most maxEntries grants, forgetting the least recently used', () => {
    const reuse = createTokenReuse<Signed>({windowSeconds: 5, maxEntries: 2});
    const signer = counting();
    for (const account of ['a', 'b', 'c']) reuse.tokenFor(account, pull, 1000, FAR, signer.at(1000));
    expect(reuse.tokenFor('c', pull, 1000, FAR, signer.at(1000)).token).toBe('token-3');
    expect(reuse.tokenFor('a', pull, 1000, FAR, signer.at(1000)).token).toBe('token-4');
  });

  it('never hands out a token that outlives the credential of the request asking for it', () => {
    const reuse = createTokenReuse<Signed>({windowSeconds: 5, maxEntries: 100});
    const signer = counting();
    const long = reuse.tokenFor('alice', pull, 1000, FAR, signer.at(1000));
    // The same grant, asked with an identity token that ends at 1010: the token above runs to 1300.
    const short = reuse.tokenFor('alice', pull, 1001, 1010, signer.at(1001, 1010));
    expect(short).not.toBe(long);
    expect(short.expiresAt).toBe(1010);
    // A token that ends early serves a later request whose credential lasts longer.
    expect(reuse.tokenFor('alice', pull, 1002, FAR, signer.at(1002))).toBe(short);
  });
});
