import {describe, expect, it} from 'vitest';
import {readSettings, saveRegistrySettings} from '../../../src/config/settings.js';
import {HubError} from '@hub/common/errors';
import {currentSession} from '../../../src/session/credentials.js';
import {switchAccount} from '../../../src/flows/switch.js';
import {testWorld, type TestWorld} from './world.js';

const REGISTRY = 'registry.example.com';

/** `names` logged in to REGISTRY in that order, the last one active, as logins leave them. */
async function loggedInAs(world: TestWorld, names: string[], registry = REGISTRY): Promise<void> {
  await saveRegistrySettings(world.ctx.paths.settings, registry, {
    issuer: 'https://id.example.com',
    clientId: 'hub',
    scopes: 'openid',
    storage: 'keychain',
    account: names.at(-1),
    accounts: Object.fromEntries(names.map((name) => [name, {storage: 'keychain' as const}])),
  });
  for (const name of names) {
    await world.stores.keychain.write({
      registry,
      issuer: 'https://id.example.com',
      clientId: 'hub',
      account: name,
      subject: `sub-${name}`,
      accessToken: `access-${name}`,
      expiresAt: world.ctx.nowSeconds() + 600,
    });
  }
}

const active = async (world: TestWorld) => (await readSettings(world.ctx.paths.settings)).registries[REGISTRY]?.account;
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('not refused'),
    (error: HubError) => error,
  );

describe('hub switch', () => {
  it('with one other account, switches to it, and what hub hands out is then that account’s', async () => {
    const world = await testWorld();
    await loggedInAs(world, ['alice', 'bob']);
    expect((await currentSession(world.ctx, REGISTRY)).session.accessToken).toBe('access-bob');
    expect(await switchAccount(world.ctx, {})).toEqual({registry: REGISTRY, account: 'alice', previous: 'bob'});
    expect(await active(world)).toBe('alice');
    expect((await currentSession(world.ctx, REGISTRY)).session.accessToken).toBe('access-alice');
    expect(world.said).toContain(`✓ Switched the active account of ${REGISTRY} to alice (docker, hub push and hub pull now go as alice).`);
  });

  it('takes a single word that is not a registry hub knows as the account', async () => {
    const world = await testWorld();
    await loggedInAs(world, ['alice', 'bob', 'carol']);
    expect(await switchAccount(world.ctx, {registry: 'alice'})).toMatchObject({account: 'alice'});
    expect(await switchAccount(world.ctx, {registry: REGISTRY, account: 'bob'})).toMatchObject({account: 'bob'});
    expect(await active(world)).toBe('bob');
  });

  it('with several others, asks on the terminal; without one, says which to name (exit 2) and changes nothing', async () => {
    const world = await testWorld();
    await loggedInAs(world, ['alice', 'bob', 'carol']);
    const asked: string[][] = [];
    world.ctx.choose = async (_question, options) => (asked.push([...options]), 'bob');
    expect(await switchAccount(world.ctx, {})).toMatchObject({account: 'bob'});
    expect(asked).toEqual([['alice', 'bob']]);

    world.ctx.choose = async () => undefined;
    const error = await refusal(switchAccount(world.ctx, {}));
    expect(error).toMatchObject({code: 'account_required', exit: 2, suggestions: [`Run \`hub switch ${REGISTRY} alice\`.`]});
    expect(error.message).toBe(`${REGISTRY} has several other accounts (alice, carol): name the one to switch to.`);
    expect(await active(world)).toBe('bob');
  });

  it('refuses an account that is not logged in, naming those that are, and says when there is nobody to switch to', async () => {
    const world = await testWorld();
    await loggedInAs(world, ['alice', 'bob']);
    expect(await refusal(switchAccount(world.ctx, {registry: REGISTRY, account: 'carol'}))).toMatchObject({
      code: 'not_logged_in',
      exit: 1,
      message: `carol is not logged in to ${REGISTRY}; logged in: alice, bob.`,
    });
    const alone = await testWorld();
    await loggedInAs(alone, ['alice']);
    expect(await refusal(switchAccount(alone.ctx, {}))).toMatchObject({
      code: 'not_logged_in',
      message: `Only alice is logged in to ${REGISTRY}: there is no other account to switch to.`,
    });
  });

  it('chooses the registry with several accounts when none is named, and asks for one when several have', async () => {
    const world = await testWorld();
    await loggedInAs(world, ['alice', 'bob']);
    await loggedInAs(world, ['robot'], 'other.example.com');
    expect(await switchAccount(world.ctx, {})).toMatchObject({registry: REGISTRY, account: 'alice'});
    await loggedInAs(world, ['robot', 'robot-2'], 'other.example.com');
    expect(await refusal(switchAccount(world.ctx, {}))).toMatchObject({code: 'registry_required', exit: 2});
  });
});
