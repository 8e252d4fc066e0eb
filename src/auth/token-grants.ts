import * as client from 'openid-client';
import {HubError} from '@hub/common/errors';
import type {Session} from '../store/session.js';
import {DEFAULT_SCOPES} from '@hub/protocol/default-scopes';
import {audienceParameters, describeOAuthError, type SignInSettings} from './oidc.js';

/**
 * What hub asks of the provider's token, userinfo and revocation endpoints once signed in. Kept
 * apart from the session logic so that the credential helper loads openid-client only when a
 * token has to be refreshed.
 */

export type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

export interface SignedInUser {
  subject: string;
  account: string;
}

/**
 * Who signed in, as the ID token says: the subject, and a name for people from its claims or, for
 * providers that keep profile claims out of the ID token, from the userinfo endpoint. Undefined
 * when the provider returned no ID token, as it may (a plain OAuth 2.0 grant, many device flows):
 * the registry's hub-auth then names the account alone, as it decides it anyway.
 */
export async function whoSignedIn(oidcConfig: client.Configuration, tokens: Tokens): Promise<SignedInUser | undefined> {
  const claims = tokens.claims();
  if (!claims) return undefined;
  const fromIdToken = pickAccount(claims);
  if (fromIdToken) return {subject: claims.sub, account: fromIdToken};
  try {
    const userinfo = await client.fetchUserInfo(oidcConfig, tokens.access_token, claims.sub);
    return {subject: claims.sub, account: pickAccount(userinfo) ?? claims.sub};
  } catch {
    return {subject: claims.sub, account: claims.sub};
  }
}

function pickAccount(claims: Record<string, unknown>): string | undefined {
  for (const name of ['preferred_username', 'email'] as const) {
    const value = claims[name];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}

/** New tokens for a session: its refresh token, or for a robot, its client credentials again. */
export async function renewalGrant(oidcConfig: client.Configuration, settings: SignInSettings, session: Session): Promise<Tokens> {
  if (session.refreshToken) return client.refreshTokenGrant(oidcConfig, session.refreshToken, audienceParameters(settings.audience));
  return client.clientCredentialsGrant(oidcConfig, clientCredentialsParameters(settings));
}

/** A robot's tokens (OAuth client credentials grant), with its secret as the client's. */
export async function robotTokens(oidcConfig: client.Configuration, settings: SignInSettings): Promise<Tokens> {
  try {
    return await client.clientCredentialsGrant(oidcConfig, clientCredentialsParameters(settings));
  } catch (error) {
    throw new HubError(`The identity provider refused the client credentials of ${settings.clientId}: ${describeOAuthError(error)}.`, {
      code: 'client_credentials_refused',
      cause: error,
      suggestions: ['Check the client id and HUB_CLIENT_SECRET, and that the client may use the client credentials grant.'],
    });
  }
}

/** Robots ask for the scopes given explicitly, never hub's interactive default (`openid` makes no sense here). */
function clientCredentialsParameters(settings: SignInSettings): Record<string, string> {
  const scope = settings.scopes === DEFAULT_SCOPES ? undefined : settings.scopes;
  return {...(scope ? {scope} : {}), ...audienceParameters(settings.audience)};
}

/**
 * RFC 7009: revoking the refresh token ends the grant at the provider (and with it the access
 * tokens it issued). Returns false when the provider has no revocation endpoint.
 */
export async function revokeSession(oidcConfig: client.Configuration, session: Session): Promise<boolean> {
  if (!oidcConfig.serverMetadata().revocation_endpoint) return false;
  if (!session.refreshToken) {
    await client.tokenRevocation(oidcConfig, session.accessToken, {token_type_hint: 'access_token'});
    return true;
  }
  await client.tokenRevocation(oidcConfig, session.refreshToken, {token_type_hint: 'refresh_token'});
  // Best effort: many providers cannot revoke a JWT access token (unsupported_token_type), and
  // it dies with the grant's refresh token or at its expiry anyway.
  await client.tokenRevocation(oidcConfig, session.accessToken, {token_type_hint: 'access_token'}).catch(() => {});
  return true;
}
