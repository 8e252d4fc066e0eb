import {jwtClaims} from '../auth/jwt-claims.js';
import type {Registry} from '../registry/registry.js';
import type {IdentityToken, Session} from '../store/session.js';
import {lockRefreshes, type SessionDeps} from './refresh.js';

/**
 * The engine's credential for a push or a pull: docker's identity token, which the engine trades
 * at the realm for registry tokens for as long as the operation lasts, where the OIDC access token
 * may expire in the middle of it (minutes, at some providers). hub-auth bounds its lifetime
 * (refreshTokens.lifetimeSeconds). One is kept in the session and replaced once half of its
 * lifetime has passed, so an operation that starts with it has at least that half. It lives only
 * in the keychain: with the insecure file store there is none (a plain file would keep a
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
    const latest = await deps.store.read(session.registry);
    const samePerson = latest?.subject === session.subject && latest.issuer === session.issuer;
    if (samePerson && halfLeft(latest.identityToken, deps.nowSeconds())) return latest.identityToken.token;
    const fresh = await deps.requestIdentityToken(session.accessToken);
    if (fresh && samePerson) await deps.store.write({...latest, identityToken: fresh});
    return fresh?.token;
  } finally {
    await release();
  }
}

function halfLeft(token: IdentityToken | undefined, nowSeconds: number): token is IdentityToken {
  return token !== undefined && token.expiresAt - nowSeconds >= (token.expiresAt - token.issuedAt) / 2;
}

/**
 * docker's identity token from the registry's token service: the OAuth2 form of the token-auth
 * spec (grant_type=password with the OIDC access token, access_type=offline), answered with a
 * refresh_token that the engine later trades (grant_type=refresh_token) for registry tokens. It
 * goes only to the realm the registry itself names, which the registry's realm() holds to https
 * (or loopback), as for the access token. undefined when the service offers none (refresh tokens
 * switched off, not hub-auth) or cannot be asked now: the access token then serves, as before.
 * The HTTP client loads only here, where a new one is needed.
 */
export async function requestIdentityToken(registry: Registry, accessToken: string): Promise<IdentityToken | undefined> {
  try {
    const {realm, service} = await registry.realm();
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: 'hub',
      access_type: 'offline',
      password: accessToken,
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
