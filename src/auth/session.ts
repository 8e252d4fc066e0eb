import {join} from 'node:path';
import * as client from 'openid-client';
import {HubError, isTransientNetworkError, notLoggedIn, rootMessage} from '../errors.js';
import {lockFile} from '../files/locked-json.js';
import type {Session, TokenStore} from '../store/session.js';
import {audienceParameters, describeOAuthError, isGrantRejected, type ProviderSettings} from './oidc.js';

/** A token that expires within this many seconds is refreshed before it is handed out. */
export const MIN_VALIDITY_SECONDS = 60;

type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

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

export type SessionState = 'valid' | 'refreshable' | 'expired';

export function sessionState(session: Session, nowSeconds: number, minValidity = MIN_VALIDITY_SECONDS): SessionState {
  if (session.expiresAt === undefined || session.expiresAt - nowSeconds >= minValidity) return 'valid';
  return session.refreshToken ? 'refreshable' : 'expired';
}

export interface SessionDeps {
  store: TokenStore;
  lockDir: string;
  nowSeconds: () => number;
  discover: (settings: ProviderSettings) => Promise<client.Configuration>;
}

/**
 * The registry's session with an access token good for at least a minute, refreshed first when
 * needed. Refreshes are serialised across processes: with refresh-token rotation, two processes
 * spending the same refresh token would make the provider revoke the whole grant.
 */
export async function freshSession(registry: string, settings: ProviderSettings, deps: SessionDeps): Promise<Session> {
  const current = await requireSession(registry, deps.store);
  if (sessionState(current, deps.nowSeconds()) === 'valid') return current;

  const release = await lockFile(join(deps.lockDir, `${encodeURIComponent(registry)}.refresh`));
  try {
    // Another process may have refreshed while this one waited for the lock.
    const latest = await requireSession(registry, deps.store);
    const state = sessionState(latest, deps.nowSeconds());
    if (state === 'valid') return latest;
    if (state === 'expired') throw sessionEnded(registry, 'its access token expired and there is no refresh token');
    let tokens: Tokens;
    try {
      const provider = await deps.discover(settings);
      tokens = await client.refreshTokenGrant(provider, latest.refreshToken!, audienceParameters(settings.audience));
    } catch (error) {
      if (isGrantRejected(error)) throw sessionEnded(registry, `the identity provider refused to refresh it (${describeOAuthError(error)})`);
      // Anything else may pass: keep the tokens, so that the next try can still refresh.
      const reason = error instanceof HubError ? error.message.replace(/\.$/, '') : isTransientNetworkError(error) ? rootMessage(error) : describeOAuthError(error);
      throw new HubError(`Could not refresh the session for ${registry}: ${reason}. The session is kept; try again.`, {code: 'refresh_failed', cause: error});
    }
    const refreshed = sessionFromTokens(registry, settings, tokens, deps.nowSeconds(), latest, latest);
    await deps.store.write(refreshed);
    return refreshed;
  } finally {
    await release();
  }
}

async function requireSession(registry: string, store: TokenStore): Promise<Session> {
  const session = await store.read(registry);
  if (session) return session;
  throw notLoggedIn(registry);
}

function sessionEnded(registry: string, why: string): HubError {
  return new HubError(`The session for ${registry} can no longer be used: ${why}.`, {
    code: 'session_ended',
    suggestions: [`Run \`hub login ${registry}\` to sign in again.`],
  });
}

/**
 * RFC 7009: revoking the refresh token ends the grant at the provider (and with it the access
 * tokens it issued). Returns false when the provider has no revocation endpoint.
 */
export async function revokeSession(provider: client.Configuration, session: Session): Promise<boolean> {
  if (!provider.serverMetadata().revocation_endpoint) return false;
  if (session.refreshToken) {
    await client.tokenRevocation(provider, session.refreshToken, {token_type_hint: 'refresh_token'});
  }
  await client.tokenRevocation(provider, session.accessToken, {token_type_hint: 'access_token'});
  return true;
}
