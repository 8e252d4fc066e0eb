import {InvalidTokenError} from '../oidc/access-token-checks.js';
import type {LogoutClaims} from '../oidc/logout-token-checks.js';
import type {Store} from '../store/open-store.js';
import type {Revocations} from './revocations.js';
import type {RevocationTarget, SessionRecord} from './sessions.js';

/**
 * What a provider's back-channel logout ends, once: the token's `jti` is recorded in the store in
 * the same transaction that revokes, so that of several instances (or one asked twice) exactly one
 * acts on it, and a token recorded is one whose sessions ended. A replay, by the provider or by
 * anyone who saw the token, ends nothing. Rows are kept until the token expires (plus the clock
 * skew it is accepted within), then pruned.
 */

export const LOGOUT_REASON = 'back-channel logout from the identity provider';

export interface ProviderLogouts {
  /** Ends the sessions a verified logout token names; throws InvalidTokenError for a jti seen before. */
  end(claims: LogoutClaims, nowSeconds: number): Promise<SessionRecord[]>;
}

const PRUNE = 'DELETE FROM logout_tokens WHERE expires_at < to_timestamp($1)';
const RECORD = `INSERT INTO logout_tokens (issuer, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
  ON CONFLICT (issuer, jti) DO NOTHING RETURNING jti`;

/**
 * §2.7: with `sid`, that provider session; with `sub` alone, all of the person's. With both, the
 * person's sessions whose tokens carried no `sid` end too: hub-auth cannot tell them apart.
 */
export function logoutTarget(claims: LogoutClaims): Exclude<RevocationTarget, {session: string}> {
  const {issuer, subject, providerSession} = claims;
  if (providerSession === undefined) return {issuer, subject};
  if (subject === undefined) return {issuer, providerSession};
  return {issuer, subject, providerSession, unrecordedToo: true};
}

export function providerLogouts(store: Store, ends: Revocations, options: {clockSkewSeconds: number}): ProviderLogouts {
  return {
    end: (claims, nowSeconds) =>
      store.transaction(async (sql) => {
        await sql.query(PRUNE, [nowSeconds]);
        const recorded = await sql.query(RECORD, [claims.issuer, claims.jti, claims.expiresAt + options.clockSkewSeconds]);
        if (recorded.length === 0)
          throw new InvalidTokenError('the logout token was used before (its jti was seen already): it ends nothing again');
        // The web hub's sessions of that person or provider session end with the same token.
        return ends.revoke(logoutTarget(claims), LOGOUT_REASON, nowSeconds, sql);
      }),
  };
}
