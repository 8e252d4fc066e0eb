import {describe, expect, it} from 'vitest';
import {readSettings, saveRegistrySettings} from '../../../src/config/settings.js';
import {registryAt} from '../../../src/registry/registry.js';
import {withSessionUnderAccount} from '../../../src/session/accounts.js';
import {currentSession} from '../../../src/session/credentials.js';
import {entryName} from '../../../src/store/session.js';
import {testWorld} from '../flows/world.js';

const REGISTRY = 'registry.example.com';

describe('a session stored by hub before several accounts', () => {
  async function upgraded() {
    const world = await testWorld();
    await saveRegistrySettings(world.ctx.paths.settings, REGISTRY, {
      issuer: 'https://id.example.com',
      clientId: 'hub',
      scopes: 'openid',
      storage: 'keychain',
      account: 'alice',
    });
    // Where the earlier hub kept it: under the registry's own name.
    world.stores.keychain.sessions.set(REGISTRY, {
      registry: REGISTRY,
      issuer: 'https://id.example.com',
      clientId: 'hub',
      account: 'alice',
      subject: 'sub-alice',
      accessToken: 'access-1',
      expiresAt: world.ctx.nowSeconds() + 600,
    });
    return world;
  }

  it('keeps the person logged in: the first use moves it under the account’s name and records the account', async () => {
    const world = await upgraded();
    const {session} = await currentSession(world.ctx, REGISTRY);
    expect(session).toMatchObject({account: 'alice', accessToken: 'access-1'});
    expect([...world.stores.keychain.sessions.keys()]).toEqual([entryName(REGISTRY, 'alice')]);
    expect((await readSettings(world.ctx.paths.settings)).registries[REGISTRY]).toMatchObject({
      account: 'alice',
      accounts: {alice: {storage: 'keychain'}},
    });
    // Moved once: the next use reads the account's entry, and nothing moves again.
    expect((await currentSession(world.ctx, REGISTRY)).session.accessToken).toBe('access-1');
  });

  it('costs the credential helper one store read once moved, as with one session per registry (no look-up of the active account)', async () => {
    const world = await upgraded();
    await currentSession(world.ctx, REGISTRY);
    const calls: string[] = [];
    const store = world.stores.keychain;
    for (const method of ['read', 'write', 'remove', 'probe'] as const) {
      const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
      (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => (calls.push(method), original(...args));
    }
    await currentSession(world.ctx, REGISTRY);
    expect(calls).toEqual(['read']);
  });

  it('leaves settings that already have accounts as they are, without touching the store', async () => {
    const world = await upgraded();
    const moved = await withSessionUnderAccount(
      world.ctx,
      registryAt(REGISTRY, (await readSettings(world.ctx.paths.settings)).registries[REGISTRY]),
    );
    world.stores.keychain.sessions.clear();
    expect(await withSessionUnderAccount(world.ctx, registryAt(REGISTRY, moved))).toBe(moved);
  });
});
