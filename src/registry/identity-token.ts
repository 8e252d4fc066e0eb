import {jwtClaims} from '../auth/jwt-claims.js';
import type {Session} from '../store/session.js';
import {discoverRealm, send} from './client.js';

export type IdentityToken = NonNullable<Session['identityToken']>;

/**
 * docker's identity token from the registry's token service: the OAuth2 form of the token-auth
 * spec (grant_type=password with the OIDC access token, access_type=offline), answered with a
 * refresh_token that the engine later trades (grant_type=refresh_token) for registry tokens. It
 * goes only to the realm the registry itself names, which discoverRealm holds to https (or
 * loopback), as for the access token. undefined when the service offers none (refresh tokens
 * switched off, not hub-auth) or cannot be asked now: the access token then serves, as before.
 */
export async function requestIdentityToken(registry: string, accessToken: string): Promise<IdentityToken | undefined> {
  try {
    const {realm, service} = await discoverRealm(registry);
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: 'hub',
      access_type: 'offline',
      password: accessToken,
      ...(service ? {service} : {}),
    });
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
