import {LRUCache} from 'lru-cache';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import {remembered} from '../remember.js';

/**
 * Registry tokens handed out again, for a few seconds, instead of signed anew. A registry token
 * says only who (`sub`) may do what (`access`) until when, and is a bearer token whoever holds
 * it; a request that the policy answers with the same subject and access shortly after another
 * may therefore get the token signed for the first one, with its `iat` and `exp` unchanged. The
 * signature is most of what a token request costs, and docker asks for the same grant over and
 * over during a push or a pull. The caller checks the requester's access token and decides the
 * access before it asks here: a refused access token never reaches this cache.
 */

/** What is handed out again: a signed token, and when it was signed (seconds since the epoch). */
export interface Reusable {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

export interface TokenReuse<Signed extends Reusable> {
  /**
   * A token for this grant signed less than the window ago that expires no later than
   * `notAfter`, or the one `sign` makes now.
   */
  tokenFor(subject: string, access: readonly ResourceScope[], nowSeconds: number, notAfter: number, sign: () => Signed): Signed;
}

export interface TokenReuseOptions {
  /** 0 signs every token anew. */
  windowSeconds: number;
  maxEntries: number;
}

/**
 * A scope may be a few hundred characters and a request may hold 64 of them, and the token
 * repeats them: besides the count, the characters kept are bounded, so that odd requests cannot
 * make the cache big.
 */
const MAX_CACHED_CHARACTERS = 16 * 1024 * 1024;

export function createTokenReuse<Signed extends Reusable>(options: TokenReuseOptions): TokenReuse<Signed> {
  if (options.windowSeconds <= 0 || options.maxEntries <= 0) return {tokenFor: (_subject, _access, _now, _notAfter, sign) => sign()};
  const recent = new LRUCache<string, Signed>({
    max: options.maxEntries,
    maxSize: MAX_CACHED_CHARACTERS,
    sizeCalculation: (signed, key) => key.length + signed.token.length,
  });
  // The policy hands out one access list per requester and scope text (rememberingDecider), so
  // its text is made once too.
  const accessTexts = new WeakMap<readonly ResourceScope[], string>();
  return {
    tokenFor(subject, access, nowSeconds, notAfter, sign) {
      const accessText = remembered(accessTexts, access, () => JSON.stringify(access));
      // The token's claims are exactly these two and the times: the same key, the same token. A
      // JSON string ends at its first unescaped quote, so the subject cannot run into the access.
      const key = JSON.stringify(subject) + accessText;
      const known = recent.get(key);
      // Ages are counted on the caller's clock, not the cache's: a clock set back signs anew.
      // One traded for a credential that stays good longer must not serve one that ends sooner.
      const fresh = known !== undefined && nowSeconds >= known.issuedAt && nowSeconds - known.issuedAt < options.windowSeconds;
      if (fresh && known.expiresAt <= notAfter) return known;
      const signed = sign();
      recent.set(key, signed);
      return signed;
    },
  };
}
