import {describe, expect, it} from 'vitest';
import {withAccount} from '../../../src/config/accounts.js';
import {saveRegistrySettings} from '../../../src/config/settings.js';
import {currentSession} from '../../../src/session/credentials.js';
import {testWorld} from '../flows/world.js';

const REGISTRY = 'registry.example.com';

describe('the session of an account', () => {
  it('is the active account’s, or the one named (a transfer keeps its own), each read from its own store', async () => {
    const world = await testWorld();
    // alice logged in with --insecure-storage, then bob: bob is active.
    const none = {issuer: 'https://id.example.com', clientId: 'hub', scopes: 'openid', storage: 'keychain' as const, accounts: {}};
    await saveRegistrySettings(
      world.ctx.paths.settings,
      REGISTRY,
      withAccount(withAccount(none, 'alice', 'insecure-file'), 'bob', 'keychain'),
    );
    const session = (account: string) => ({
      registry: REGISTRY,
      issuer: 'https://id.example.com',
      clientId: 'hub',
      account,
      subject: `sub-${account}`,
      accessToken: `access-${account}`,
      expiresAt: world.ctx.nowSeconds() + 600,
    });
    await world.stores['insecure-file'].write(session('alice'));
    await world.stores.keychain.write(session('bob'));
    expect((await currentSession(world.ctx, REGISTRY)).session.accessToken).toBe('access-bob');
    expect((await currentSession(world.ctx, REGISTRY, 'alice')).session.accessToken).toBe('access-alice');
    await expect(currentSession(world.ctx, REGISTRY, 'carol')).rejects.toMatchObject({code: 'not_logged_in'});
  });
});
