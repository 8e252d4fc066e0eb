import * as client from 'openid-client';
import {HubError} from '../errors.js';
import type {Session} from '../store/session.js';
import {audienceParameters, type ProviderSettings} from './oidc.js';

/**
 * What hub asks of the provider's token, userinfo and revocation endpoints once signed in. Kept
 * apart from the session logic so that the credential helper loads openid-client only when a
 * token has to be refreshed.
 */

export type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

export interface Identity {
  subject: string;
  account: string;
}

/**
 * Who signed in: the subject from the ID token, and a name for people from its claims or, for
 * providers that keep profile claims out of the ID token, from the userinfo endpoint.
 */
export async function identify(provider: client.Configuration, tokens: Tokens): Promise<Identity> {
  const claims = tokens.claims();
  if (!claims) throw new HubError('The identity provider returned no ID token, so hub cannot tell who signed in.', {code: 'no_id_token'});
  const fromIdToken = pickAccount(claims);
  if (fromIdToken) return {subject: claims.sub, account: fromIdToken};
  try {
    const userinfo = await client.fetchUserInfo(provider, tokens.access_token, claims.sub);
    return {subject: claims.sub, account: pickAccount(userinfo) ?? claims.sub};
  } catch {
    return {subject: claims.sub, account: claims.sub};
  }
}

/** The session a token response makes; a refresh keeps what the new response does not restate. */
export function sessionFromTokens(
  registry: string,
  settings: ProviderSettings,
  tokens: Tokens,
  nowSeconds: number,
  identity: Identity,
  previous?: Session,
): Session {
  const {subject, account} = identity;
  return {
    registry,
    issuer: settings.issuer,
    clientId: settings.clientId,
    account,
    subject,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
    expiresAt: tokens.expires_in === undefined ? undefined : nowSeconds + tokens.expires_in,
    scope: tokens.scope ?? previous?.scope,
  };
}

function pickAccount(claims: Record<string, unknown>): string | undefined {
  for (const name of ['preferred_username', 'email'] as const) {
    const value = claims[name];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}

export async function refreshGrant(provider: client.Configuration, settings: ProviderSettings, refreshToken: string): Promise<Tokens> {
  return client.refreshTokenGrant(provider, refreshToken, audienceParameters(settings.audience));
}

/**
 * RFC 7009: revoking the refresh token ends the grant at the provider (and with it the access
 * tokens it issued). Returns false when the provider has no revocation endpoint.
 */
export async function revokeSession(provider: client.Configuration, session: Session): Promise<boolean> {
  if (!provider.serverMetadata().revocation_endpoint) return false;
  if (!session.refreshToken) {
    await client.tokenRevocation(provider, session.accessToken, {token_type_hint: 'access_token'});
    return true;
  }
  await client.tokenRevocation(provider, session.refreshToken, {token_type_hint: 'refresh_token'});
  // Best effort: many providers cannot revoke a JWT access token (unsupported_token_type), and
  // it dies with the grant's refresh token or at its expiry anyway.
  await client.tokenRevocation(provider, session.accessToken, {token_type_hint: 'access_token'}).catch(() => {});
  return true;
}
