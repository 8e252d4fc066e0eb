import {environmentSession} from '../auth/environment-token.js';
import {freshSession} from '../auth/session.js';
import {chooseRegistry} from '../config/registry-choice.js';
import {readSettings} from '../config/settings.js';
import {sessionDeps, type Context} from '../context.js';
import {notLoggedIn} from '@hub/common/errors';
import type {Session} from '../store/session.js';

/** The registry's session with an access token valid for at least another minute. */
export async function currentSession(ctx: Context, named: string | undefined): Promise<Session> {
  const fromEnvironment = environmentSession(ctx.env, named);
  if (fromEnvironment) return fromEnvironment;
  const settings = await readSettings(ctx.paths.settings);
  const registry = chooseRegistry(named, settings, ctx.env);
  const saved = settings.registries[registry];
  if (!saved) {
    throw notLoggedIn(registry);
  }
  return freshSession(registry, saved, sessionDeps(ctx, saved.storage));
}
