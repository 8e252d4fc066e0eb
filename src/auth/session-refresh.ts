import {join} from 'node:path';
import type * as client from 'openid-client';
import {HubError, isTransientNetworkError, notLoggedIn, rootMessage} from '@hub/common/errors';
import {lockFile} from '@hub/common/file-lock';
import type {Session, TokenStore} from '../store/session.js';
import type {ProviderSettings} from './oidc.js';

/** A token that expires within this many seconds is refreshed before it is handed out. */
export const MIN_VALIDITY_SECONDS = 60;

export type SessionState = 'valid' | 'refreshable' | 'expired';

export function sessionState(session: Session, nowSeconds: number, minValidity = MIN_VALIDITY_SECONDS): SessionState {
  if (session.expiresAt === undefined || session.expiresAt - nowSeconds >= minValidity) return 'valid';
  return session.refreshToken || session.clientSecret ? 'refreshable' : 'expired';
}

export interface SessionDeps {
  store: TokenStore;
  lockDir: string;
  nowSeconds: () => number;
  /** OIDC discovery; with a client secret for a confidential client (robots). */
  discover: (settings: ProviderSettings, clientSecret?: string) => Promise<client.Configuration>;
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
    // Loaded only now: the credential helper answers most calls without openid-client.
    const [{renewalGrant, sessionFromTokens}, {describeOAuthError, isGrantRejected}] = await Promise.all([
      import('./token-grants.js'),
      import('./oidc.js'),
    ]);
    let tokens: Awaited<ReturnType<typeof renewalGrant>>;
    try {
      const client = sessionClient(settings, latest);
      tokens = await renewalGrant(await deps.discover(client, latest.clientSecret), client, latest);
    } catch (error) {
      if (isGrantRejected(error))
        throw sessionEnded(registry, `the identity provider refused to refresh it (${describeOAuthError(error)})`);
      // Anything else may pass: keep the tokens, so that the next try can still refresh.
      const reason =
        error instanceof HubError
          ? error.message.replace(/\.$/, '')
          : isTransientNetworkError(error)
            ? rootMessage(error)
            : describeOAuthError(error);
      throw new HubError(`Could not refresh the session for ${registry}: ${reason}. The session is kept; try again.`, {
        code: 'refresh_failed',
        cause: error,
      });
    }
    const refreshed = sessionFromTokens(registry, sessionClient(settings, latest), tokens, deps.nowSeconds(), latest, latest);
    await deps.store.write(refreshed);
    return refreshed;
  } finally {
    await release();
  }
}

/** The registry's provider settings with the client the session's tokens were issued to (the device flow may use its own). */
export function sessionClient(settings: ProviderSettings, session: Session): ProviderSettings {
  return {...settings, clientId: session.clientId};
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
