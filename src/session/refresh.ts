import {join} from 'node:path';
import type * as client from 'openid-client';
import {HubError, notLoggedIn} from '@hub/common/errors';
import {lockFile} from '@hub/common/file-lock';
import type {SignInSettings} from '../auth/oidc.js';
import type {Registry} from '../registry/registry.js';
import type {IdentityToken, Session, TokenStore} from '../store/session.js';
import {buildSession, grantFromTokens} from './build.js';

/** A token that expires within this many seconds is refreshed before it is handed out. */
export const MIN_VALIDITY_SECONDS = 60;

export type SessionState = 'valid' | 'refreshable' | 'expired';

export function sessionState(session: Session, nowSeconds: number, minValidity = MIN_VALIDITY_SECONDS): SessionState {
  if (session.expiresAt === undefined || session.expiresAt - nowSeconds >= minValidity) return 'valid';
  return session.refreshToken || session.clientSecret ? 'refreshable' : 'expired';
}

/** What a session's life needs from the outside world, for one registry (credentials.ts builds it from the context). */
export interface SessionDeps {
  registry: Registry;
  /** The provider the session renews at: what login saved for the registry. */
  settings: SignInSettings;
  /** The account whose session this is: the registry's active one. */
  account: string;
  store: TokenStore;
  lockDir: string;
  nowSeconds: () => number;
  /** OIDC discovery; with a client secret for a confidential client (robots). */
  discover: (settings: SignInSettings, clientSecret?: string) => Promise<client.Configuration>;
  /** docker's identity token from the registry's token service (identity-token.ts), for this access token, continuing `current`'s session. */
  requestIdentityToken: (accessToken: string, current?: string) => Promise<IdentityToken | undefined>;
  /** Ends an identity token's session at the registry's token service (identity-token.ts); throws when it cannot now. */
  revokeIdentityToken: (token: string) => Promise<'revoked' | 'unsupported'>;
}

/**
 * The registry's session with an access token good for at least a minute, refreshed first when
 * needed. Refreshes are serialised across processes: with refresh-token rotation, two processes
 * spending the same refresh token would make the provider revoke the whole grant.
 */
export async function freshSession(deps: SessionDeps): Promise<Session> {
  const {
    registry: {host},
    settings,
  } = deps;
  const current = await requireSession(deps);
  if (sessionState(current, deps.nowSeconds()) === 'valid') return current;

  const release = await lockRefreshes(deps, host);
  try {
    // Another process may have refreshed while this one waited for the lock.
    const latest = await requireSession(deps);
    const state = sessionState(latest, deps.nowSeconds());
    if (state === 'valid') return latest;
    if (state === 'expired') throw sessionEnded(host, 'its access token expired and there is no refresh token');
    // Loaded only now: the credential helper answers most calls without openid-client.
    const [{renewalGrant}, {describeOAuthError, isGrantRejected}] = await Promise.all([
      import('../auth/token-grants.js'),
      import('../auth/oidc.js'),
    ]);
    const client = sessionClient(settings, latest);
    let tokens: Awaited<ReturnType<typeof renewalGrant>>;
    try {
      tokens = await renewalGrant(await deps.discover(client, latest.clientSecret), client, latest);
    } catch (error) {
      if (isGrantRejected(error)) throw sessionEnded(host, `the identity provider refused to refresh it (${describeOAuthError(error)})`);
      // Anything else may pass: keep the tokens, so that the next try can still refresh.
      const reason = error instanceof HubError ? error.message.replace(/\.$/, '') : describeOAuthError(error);
      throw new HubError(`Could not refresh the session for ${host}: ${reason}. The session is kept; try again.`, {
        code: 'refresh_failed',
        cause: error,
      });
    }
    const refreshed = buildSession(host, client, latest, grantFromTokens(tokens, deps.nowSeconds()), latest);
    await deps.store.write(refreshed);
    return refreshed;
  } finally {
    await release();
  }
}

/**
 * The lock of a registry's session, held while it is read, renewed and written back, so that a
 * change another process makes meanwhile is not lost.
 */
export function lockRefreshes(deps: Pick<SessionDeps, 'lockDir'>, host: string): Promise<() => Promise<void>> {
  return lockFile(join(deps.lockDir, `${encodeURIComponent(host)}.refresh`));
}

/** The registry's sign-in settings with the client the session's tokens were issued to (the device flow may use its own). */
export function sessionClient(settings: SignInSettings, session: Session): SignInSettings {
  return {...settings, clientId: session.clientId};
}

async function requireSession({registry: {host}, account, store}: SessionDeps): Promise<Session> {
  const session = await store.read(host, account);
  if (session) return session;
  throw notLoggedIn(host);
}

function sessionEnded(host: string, why: string): HubError {
  return new HubError(`The session for ${host} can no longer be used: ${why}.`, {
    code: 'session_ended',
    suggestions: [`Run \`hub login ${host}\` to sign in again.`],
  });
}
