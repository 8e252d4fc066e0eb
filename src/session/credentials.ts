import {readSettings} from '../config/settings.js';
import type {Context} from '../context.js';
import {notLoggedIn} from '@hub/common/errors';
import {chooseRegistry, registryAt, type Registry} from '../registry/registry.js';
import type {Session} from '../store/session.js';
import {withSessionUnderAccount} from './accounts.js';
import {environmentSession} from './environment-token.js';
import {identityTokenFor, requestIdentityToken, revokeIdentityToken} from './identity-token.js';
import {freshSession, type SessionDeps} from './refresh.js';

export interface CurrentSession {
  registry: Registry;
  session: Session;
  /** Absent for HUB_TOKEN, which is used as it is: its lifetime is the CI's to choose. */
  deps?: SessionDeps;
}

export interface Credentials {
  registry: Registry;
  session: Session;
  /** docker's identity token, where the registry's token service offers one (identity-token.ts). */
  identityToken?: string;
}

/**
 * The registry's session with an access token valid for at least another minute: HUB_TOKEN's,
 * else the one `hub login` stored for the active account (or the one named), refreshed under its
 * lock when it is about to expire.
 */
export async function currentSession(ctx: Context, named: string | undefined, account?: string): Promise<CurrentSession> {
  const fromEnvironment = environmentSession(ctx.env, named);
  if (fromEnvironment) return {registry: registryAt(fromEnvironment.registry), session: fromEnvironment};
  const chosen = chooseRegistry(named, await readSettings(ctx.paths.settings), ctx.env);
  const registry = registryAt(chosen.host, await withSessionUnderAccount(ctx, chosen));
  const deps = sessionDeps(ctx, registry, account);
  return {registry, session: await freshSession(deps), deps};
}

/**
 * What docker's engine is to push or pull with, now: the current session, and docker's identity
 * token where there is one, so that a transfer may outlast the access token. `hub push`, `hub pull`
 * and docker-credential-hub all answer from here.
 */
export async function credentialsNow(ctx: Context, named: string | undefined, account?: string): Promise<Credentials> {
  const {registry, session, deps} = await currentSession(ctx, named, account);
  if (!deps) return {registry, session};
  return {registry, session, identityToken: await identityTokenFor(session, deps)};
}

/**
 * The context's store, clock and network for the session of one account of the registry: the
 * active one unless named. docker-credential-hub does
 * not start on the network: the proxy variables are honoured (ctx.connect) where a call goes out.
 */
export function sessionDeps(ctx: Context, registry: Registry, account?: string): SessionDeps {
  const {settings} = registry;
  if (!settings) throw notLoggedIn(registry.host);
  const named = account ?? settings.account ?? '';
  return {
    registry,
    settings,
    account: named,
    store: ctx.store(named === settings.account ? settings.storage : (settings.accounts?.[named]?.storage ?? settings.storage)),
    lockDir: ctx.paths.locks,
    nowSeconds: ctx.nowSeconds,
    discover: async (settings, clientSecret) => {
      await ctx.connect();
      return ctx.discover(settings, clientSecret);
    },
    requestIdentityToken: async (accessToken, current) => {
      await ctx.connect();
      return requestIdentityToken(registry, accessToken, current);
    },
    revokeIdentityToken: async (token) => {
      await ctx.connect();
      return revokeIdentityToken(registry, token);
    },
  };
}
