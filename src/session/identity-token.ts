import {IDENTITY_TOKEN_CLAIMS, tokenRevocationUrl} from '@hub/protocol/identity-token';
import {HubError} from '@hub/common/errors';
import {jwtClaims} from '../auth/jwt-claims.js';
import type {Registry} from '../registry/registry.js';
import type {IdentityToken, Session} from '../store/session.js';
import {lockRefreshes, type SessionDeps} from './refresh.js';

/**
 * The engine's credential for a push or a pull: docker's identity token, which the engine trades
 * at the realm for registry tokens for as long as the operation lasts, where the OIDC access token
 * may expire in the middle of it (minutes, at some providers). hub-auth trades one only while its
 * sign-in session was re-checked (a valid access token of the person passing) within its window
 * (the token's `chk` claim, refreshTokens.revalidateSeconds), and bounds its lifetime
 * (refreshTokens.lifetimeSeconds). One is kept in the session and replaced once half of the
 * shorter of the two has passed, by trading a fresh access token together with it, which re-checks
 * its session: every identity token of that session, the engine's included, keeps working. It lives
 * only in the keychain: with the insecure file store there is none (a plain file would keep a
 * credential good for hours), and the access token serves as before.
 */

export type IdentityTokenDeps = Pick<SessionDeps, 'store' | 'lockDir' | 'nowSeconds' | 'requestIdentityToken'>;

/** The identity token for the session's registry, or undefined when its token service offers none. */
export async function identityTokenFor(session: Session, deps: IdentityTokenDeps): Promise<string | undefined> {
  if (halfLeft(session.identityToken, deps.nowSeconds())) return session.identityToken.token;
  if (deps.store.kind === 'insecure-file') return undefined;
  // The session is written back: a refresh meanwhile must not be lost.
  const release = await lockRefreshes(deps, session.registry);
  try {
    const latest = await deps.store.read(session.registry, session.account);
    const samePerson = latest?.subject === session.subject && latest.issuer === session.issuer;
    if (samePerson && halfLeft(latest.identityToken, deps.nowSeconds())) return latest.identityToken.token;
    const fresh = await deps.requestIdentityToken(session.accessToken, samePerson ? latest.identityToken?.token : undefined);
    if (fresh && samePerson) await deps.store.write({...latest, identityToken: fresh});
    return fresh?.token;
  } finally {
    await release();
  }
}

function halfLeft(token: IdentityToken | undefined, nowSeconds: number): token is IdentityToken {
  if (token === undefined) return false;
  const window = recheckWindow(token.token) ?? Infinity;
  return nowSeconds - token.issuedAt <= Math.min(token.expiresAt - token.issuedAt, window) / 2;
}

/** The seconds within which hub-auth wants the token's session re-checked, when it says (hub-auth before sessions did not). */
export function recheckWindow(token: string): number | undefined {
  const window = jwtClaims(token)?.[IDENTITY_TOKEN_CLAIMS.recheckWindow];
  return typeof window === 'number' && window > 0 ? window : undefined;
}

/**
 * docker's identity token from the registry's token service: the OAuth2 form of the token-auth
 * spec (grant_type=password with the OIDC access token, access_type=offline), answered with a
 * refresh_token that the engine later trades (grant_type=refresh_token) for registry tokens; with
 * `current`, the identity token hub holds, so that its session continues (and is re-checked). It
 * goes only to the realm the registry itself names, which the registry's realm() holds to https
 * (or loopback), as for the access token. undefined when the service offers none (refresh tokens
 * switched off, not hub-auth) or cannot be asked now: the access token then serves, as before.
 * The HTTP client loads only here, where a new one is needed.
 */
export async function requestIdentityToken(registry: Registry, accessToken: string, current?: string): Promise<IdentityToken | undefined> {
  try {
    const {realm, service} = await registry.realm();
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: 'hub',
      access_type: 'offline',
      password: accessToken,
      // The session this one continues: hub-auth re-checks it, and every token of it keeps working.
      ...(current ? {refresh_token: current} : {}),
      ...(service ? {service} : {}),
    });
    const {send} = await import('../registry/http.js');
    const response = await send(realm, {accept: 'application/json'}, form);
    if (!response.ok) return undefined;
    const token = ((await response.json()) as {refresh_token?: unknown}).refresh_token;
    if (typeof token !== 'string' || token === '') return undefined;
    // hub-auth's refresh tokens are JWTs: their times say when to ask for the next one.
    const claims = jwtClaims(token);
    if (typeof claims?.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp <= claims.iat) return undefined;
    return {token, issuedAt: claims.iat, expiresAt: claims.exp};
  } catch {
    return undefined;
  }
}

/**
 * Ends the identity token's sign-in session at the registry's token service (RFC 7009, next to the
 * realm): every copy of it, docker's included, is then refused. 'unsupported' when the service has
 * no such endpoint; throws a HubError saying why when it cannot be done now: a logout must never
 * claim it.
 */
export async function revokeIdentityToken(registry: Registry, token: string): Promise<'revoked' | 'unsupported'> {
  const {realm} = await registry.realm();
  const url = tokenRevocationUrl(realm);
  const {send} = await import('../registry/http.js');
  const response = await send(url.href, {accept: 'application/json'}, new URLSearchParams({token, token_type_hint: 'refresh_token'}));
  if (response.ok) return 'revoked';
  // A token service without the endpoint (hub-auth before sessions): nothing there can end it.
  if (response.status === 404) return 'unsupported';
  const retryAfter = response.headers.get('retry-after');
  throw new HubError(
    `${url.host} answered HTTP ${response.status} to the revocation${retryAfter ? ` (try again in ${retryAfter} s)` : ''}.`,
    {code: 'revocation_failed'},
  );
}
