import {mkdir, writeFile} from 'node:fs/promises';
import {dirname} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createContext} from '../../../src/context.js';
import {describeStatus, status, statusExitCode} from '../../../src/flows/status.js';
import {readSettings, saveRegistrySettings} from '../../../src/config/settings.js';
import {loggedIn, testWorld} from './world.js';

/** An unsigned JWT: status reads the claims only, as the rest of hub does for HUB_TOKEN. */
function token(claims: Record<string, unknown>): string {
  return `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
}

function statusWith(env: NodeJS.ProcessEnv) {
  // A config folder that does not exist: HUB_TOKEN needs none, and no stored session may show.
  return status(createContext(() => {}, {HUB_CONFIG_DIR: '/nonexistent/hub-status-test', ...env}));
}

describe('hub status with HUB_TOKEN', () => {
  const now = Math.floor(Date.now() / 1000);

  it('reports the environment token for HUB_REGISTRY, with the account and expiry from its claims, instead of "Not logged in"', async () => {
    const registries = await statusWith({
      HUB_TOKEN: token({iss: 'https://id.example.com', preferred_username: 'ci-bot', exp: now + 600}),
      HUB_REGISTRY: 'Registry.Example.com',
    });
    expect(registries).toEqual([
      expect.objectContaining({
        registry: 'registry.example.com',
        account: 'ci-bot',
        issuer: 'https://id.example.com',
        storage: 'environment',
        state: 'valid',
        usable: true,
      }),
    ]);
    expect(registries[0]!.expiresAt).toBe(new Date((now + 600) * 1000).toISOString());
    expect(statusExitCode(registries)).toBe(0);
    const lines = describeStatus(registries).join('\n');
    expect(lines).toContain('✓ registry.example.com\n    account:  ci-bot');
    expect(lines).toContain('storage:  environment (HUB_TOKEN');
    expect(lines).not.toContain('Not logged in');
  });

  it('takes the account from HUB_USERNAME, says when the token names no issuer, and fails once it has expired', async () => {
    const registries = await statusWith({
      HUB_TOKEN: token({sub: 'x', exp: now - 10}),
      HUB_REGISTRY: 'r.example.com',
      HUB_USERNAME: 'deployer',
    });
    expect(registries).toEqual([expect.objectContaining({account: 'deployer', usable: false, state: 'expired'})]);
    expect(statusExitCode(registries)).toBe(1);
    const lines = describeStatus(registries).join('\n');
    expect(lines).toContain('✗ r.example.com');
    expect(lines).toContain('issuer:   (not named in the token)');
    expect(lines).toContain('HUB_TOKEN expired');
  });
});

describe('hub status REGISTRY', () => {
  async function worldWithTwo() {
    const world = await testWorld();
    const saved = {issuer: 'https://id.example.com', clientId: 'hub', scopes: 'openid', storage: 'keychain'};
    await mkdir(dirname(world.ctx.paths.settings), {recursive: true});
    await writeFile(world.ctx.paths.settings, JSON.stringify({registries: {'a.example.com': saved, 'localhost:5000': saved}}));
    return world;
  }

  it('reports that registry only, named as docker names it (host:port kept whole)', async () => {
    const world = await worldWithTwo();
    expect((await status(world.ctx)).map((r) => r.registry)).toEqual(['a.example.com', 'localhost:5000']);
    expect((await status(world.ctx, 'LocalHost:5000')).map((r) => r.registry)).toEqual(['localhost:5000']);
  });

  it('says it is not logged in to a registry it does not know, and fails (exit 1)', async () => {
    const world = await worldWithTwo();
    const registries = await status(world.ctx, 'b.example.com');
    expect(registries).toEqual([]);
    expect(describeStatus(registries, 'b.example.com')).toEqual(['Not logged in to b.example.com. Run `hub login b.example.com`.']);
    expect(statusExitCode(registries)).toBe(1);
  });
});

describe('hub status with several accounts', () => {
  it('lists each account of the registry, the active one marked, in JSON with `active`', async () => {
    const world = await testWorld();
    await loggedIn(world);
    await loggedIn(world, {account: 'bob', subject: 'sub-bob'});
    // loggedIn saves alice's settings: bob's login as the flow leaves it, added and active.
    const settings = await readSettings(world.ctx.paths.settings);
    await saveRegistrySettings(world.ctx.paths.settings, 'registry.example.com', {
      ...settings.registries['registry.example.com']!,
      account: 'bob',
      accounts: {alice: {storage: 'keychain'}, bob: {storage: 'keychain'}},
    });
    const registries = await status(world.ctx);
    expect(registries.map((r) => [r.account, r.active, r.usable])).toEqual([
      ['alice', false, true],
      ['bob', true, true],
    ]);
    const lines = describeStatus(registries);
    expect(lines).toContain('    account:  bob (active)');
    expect(lines).toContain('    account:  alice');
    expect(statusExitCode(registries)).toBe(0);
  });

  it('reads a session stored by hub before several accounts where it is, and marks none active when there is one', async () => {
    const world = await testWorld();
    await saveRegistrySettings(world.ctx.paths.settings, 'registry.example.com', {
      issuer: 'https://id.example.com',
      clientId: 'hub',
      scopes: 'openid',
      storage: 'keychain',
      account: 'alice',
    });
    world.stores.keychain.sessions.set('registry.example.com', {
      registry: 'registry.example.com',
      issuer: 'https://id.example.com',
      clientId: 'hub',
      account: 'alice',
      subject: 'sub-alice',
      accessToken: 'access-1',
    });
    const registries = await status(world.ctx);
    expect(registries).toEqual([expect.objectContaining({account: 'alice', active: true, usable: true})]);
    expect(describeStatus(registries)).toContain('    account:  alice');
  });
});
