import {environmentSession} from '../auth/environment-token.js';
import {identityTokenFor} from '../auth/identity-token.js';
import {freshSession} from '../auth/session-refresh.js';
import {chooseRegistry} from '../config/registry-choice.js';
import {readSettings} from '../config/settings.js';
import {sessionDeps, type Context} from '../context.js';
import {notLoggedIn} from '@hub/common/errors';
import {requestIdentityToken} from '../registry/identity-token.js';
import type {Session} from '../store/session.js';

/** The registry's session with an access token valid for at least another minute. */
export async function currentSession(ctx: Context, named: string | undefined): Promise<Session> {
  return (await sessionWithDeps(ctx, named)).session;
}

/**
 * The session and what the engine is to push or pull with: docker's identity token where the
 * registry's token service offers one (auth/identity-token.ts), so that a transfer may outlast
 * the access token. HUB_TOKEN's token is used as it is: its lifetime is the CI's to choose.
 */
export async function currentTransferCredentials(
  ctx: Context,
  named: string | undefined,
): Promise<{session: Session; identityToken?: string}> {
  const {session, deps} = await sessionWithDeps(ctx, named);
  if (!deps) return {session};
  return {session, identityToken: await identityTokenFor(session, {...deps, request: requestIdentityToken})};
}

async function sessionWithDeps(ctx: Context, named: string | undefined) {
  const fromEnvironment = environmentSession(ctx.env, named);
  if (fromEnvironment) return {session: fromEnvironment};
  const settings = await readSettings(ctx.paths.settings);
  const registry = chooseRegistry(named, settings, ctx.env);
  const saved = settings.registries[registry];
  if (!saved) {
    throw notLoggedIn(registry);
  }
  const deps = sessionDeps(ctx, saved.storage);
  return {session: await freshSession(registry, saved, deps), deps};
}
