import {updateRegistrySettings, type RegistrySettings} from '../config/settings.js';
import type {Context} from '../context.js';
import type {Registry} from '../registry/registry.js';
import {lockRefreshes} from './refresh.js';

/**
 * The registry's settings with its session stored under its account's name. hub before several
 * accounts kept the one session under the registry's own name: it moves once, under the session's
 * lock (a refresh in another process must not write meanwhile), and the person stays logged in.
 * Settings without a legacy session come back as they are.
 */
export async function withSessionUnderAccount(ctx: Context, registry: Registry): Promise<RegistrySettings | undefined> {
  const saved = registry.settings;
  if (saved?.accounts !== undefined) return saved;
  if (saved === undefined) return undefined;
  const release = await lockRefreshes({lockDir: ctx.paths.locks}, registry.host);
  try {
    const store = ctx.store(saved.storage);
    const session = await store.read(registry.host, undefined);
    if (!session) return saved;
    await store.write(session);
    const moved = await updateRegistrySettings(ctx.paths.settings, registry.host, (current) =>
      current && current.accounts === undefined
        ? {...current, account: session.account, accounts: {[session.account]: {storage: current.storage}}}
        : current,
    );
    await store.remove(registry.host, undefined);
    return moved;
  } finally {
    await release();
  }
}
