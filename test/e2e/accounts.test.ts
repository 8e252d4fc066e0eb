import {readFile, writeFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {AsyncEntry as AsyncEntryType} from '@napi-rs/keyring';
import {makeImage, runDocker} from '@hub/test-stack/docker-engine';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {runHub} from '@hub/test-stack/hub-cli';
import {secretServiceLookup} from '@hub/test-stack/keyring';
import {USERS, type TestUser} from '@hub/test-stack/identity-provider';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';

const {AsyncEntry} = createRequire(import.meta.url)('@napi-rs/keyring') as {AsyncEntry: typeof AsyncEntryType};
const [alice, bob] = USERS as [TestUser, TestUser];

/**
 * Several accounts at one registry, on the real stack (oidc-provider, Secret Service, chromium,
 * dockerd, hub-auth): alice and bob log in, docker goes as the active one through
 * docker-credential-hub, `hub switch` changes who that is, and a logout removes one account only
 * until the last one goes. Each image is pushed into its owner's namespace, where hub-auth lets
 * only that person push: a push that works says whose credentials docker had.
 */
describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('several accounts at one registry', () => {
  let stack: RegistryStack;
  let env: NodeJS.ProcessEnv;
  let registry: string;

  beforeAll(async () => {
    stack = await startRegistryStack();
    ({env} = await withHubOnPath(stack.sandbox.dir, stack.env));
    await makeImage(env, stack.sandbox.dir, 'accounts:source', 64 * 1024);
    registry = stack.registry.host;
  });

  afterAll(() => stack?.stop());

  const docker = (args: string[]) => runDocker(env, args);

  /** A plain `docker push` of the test image into `namespace`, with whatever docker-credential-hub hands docker. */
  async function dockerPush(namespace: string): Promise<{code: number; output: string}> {
    const reference = `${registry}/${namespace}/accounts:1`;
    await docker(['tag', 'accounts:source', reference]);
    return docker(['push', reference]);
  }

  async function login(user: TestUser) {
    const run = runHub(['login', registry, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId], env);
    await stack.browser.signIn(await stack.browser.nextUrl(), user);
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    return result;
  }

  async function statusJson(): Promise<Array<{account: string; active: boolean; usable: boolean}>> {
    const result = await runHub(['status', '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Array<{account: string; active: boolean; usable: boolean}>;
  }

  const credHelpers = async () =>
    (JSON.parse(await readFile(join(stack.sandbox.dockerConfig, 'config.json'), 'utf8')) as {credHelpers?: Record<string, string>})
      .credHelpers ?? {};

  it('a login as bob after alice keeps both, bob active, and says so', async () => {
    await login(alice);
    const second = await login(bob);
    expect(second.stderr).toContain(`✓ Logged in to ${registry} as bob (alice is still logged in; \`hub switch\` goes back;`);
    expect((await statusJson()).map((r) => [r.account, r.active, r.usable])).toEqual([
      ['alice', false, true],
      ['bob', true, true],
    ]);
    const human = await runHub(['status'], env);
    expect(human.stderr).toContain('    account:  bob (active)');
    // One keychain entry set per account.
    expect(await secretServiceLookup(stack.keyring.env, `alice@${registry}`)).toBeTruthy();
    expect(await secretServiceLookup(stack.keyring.env, `bob@${registry}`)).toBeTruthy();
  });

  it('docker, hub token and hub push go as the active account, bob; after `hub switch` as alice', async () => {
    expect((await dockerPush('bob')).code).toBe(0);
    const refused = await dockerPush('alice');
    expect(refused.code, refused.output).not.toBe(0);
    const token = await runHub(['token', '--json'], env);
    expect(JSON.parse(token.stdout)).toMatchObject({registry});

    const switched = await runHub(['switch'], env);
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stderr).toContain(`✓ Switched the active account of ${registry} to alice`);
    expect((await statusJson()).find((r) => r.active)?.account).toBe('alice');
    expect((await dockerPush('alice')).code).toBe(0);
    expect((await dockerPush('bob')).code).not.toBe(0);
    const pushed = await runHub(['push', 'accounts:source', '--json'], env);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({reference: `${registry}/alice/accounts:source`});
  });

  it('`hub switch` refuses an account that is not logged in, naming those that are (exit 1)', async () => {
    const unknown = await runHub(['switch', registry, 'carol'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`carol is not logged in to ${registry}; logged in: alice, bob.`);
  });

  it('`hub logout --account bob` ends bob’s session only: alice keeps working and docker keeps its entry; her logout removes it', async () => {
    const out = await runHub(['logout', registry, '--account', 'bob'], env);
    expect(out.code, out.stderr).toBe(0);
    // Through the logout's usual path: hub-auth ends bob's sign-in (docker held his identity token), the provider his grant.
    expect(out.stderr).toContain(`✓ Logged out of ${registry} (bob); the registry ended the sign-in`);
    expect(await secretServiceLookup(stack.keyring.env, `bob@${registry}`)).toBeFalsy();
    expect((await statusJson()).map((r) => [r.account, r.active])).toEqual([['alice', true]]);
    expect(await credHelpers()).toMatchObject({[registry]: 'hub'});
    expect((await dockerPush('alice')).code).toBe(0);

    const last = await runHub(['logout'], env);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toContain(`✓ Logged out of ${registry} (alice)`);
    expect(await credHelpers()).not.toHaveProperty(registry);
    expect(await secretServiceLookup(stack.keyring.env, `alice@${registry}`)).toBeFalsy();
  });

  it('a session stored by hub before several accounts keeps working after the upgrade, moved under its account', async () => {
    await login(alice);
    // What hub before several accounts left: the session under the registry's own name, and settings without `accounts`.
    const session = (await secretServiceLookup(stack.keyring.env, `alice@${registry}`))!;
    const entry = (account: string) => new AsyncEntry('hub', account, {linux: {store: 'secret-service'}});
    const bus = process.env.DBUS_SESSION_BUS_ADDRESS;
    process.env.DBUS_SESSION_BUS_ADDRESS = stack.keyring.env.DBUS_SESSION_BUS_ADDRESS;
    try {
      await entry(registry).setPassword(session);
      await entry(`alice@${registry}`).deleteCredential();
    } finally {
      process.env.DBUS_SESSION_BUS_ADDRESS = bus;
    }
    const settingsFile = join(stack.sandbox.configDir, 'config.json');
    const settings = JSON.parse(await readFile(settingsFile, 'utf8')) as {registries: Record<string, {accounts?: unknown}>};
    delete settings.registries[registry]!.accounts;
    await writeFile(settingsFile, JSON.stringify(settings));

    expect((await statusJson()).map((r) => [r.account, r.active, r.usable])).toEqual([['alice', true, true]]);
    expect((await dockerPush('alice')).code).toBe(0);
    expect(await secretServiceLookup(stack.keyring.env, registry)).toBeFalsy();
    // The same session (its refresh token), not a new sign-in; docker's identity token may have been renewed into it.
    const {identityToken: _renewed, ...kept} = JSON.parse(session) as Record<string, unknown>;
    expect(JSON.parse((await secretServiceLookup(stack.keyring.env, `alice@${registry}`))!)).toMatchObject(kept);
    expect(JSON.parse(await readFile(settingsFile, 'utf8')).registries[registry]).toMatchObject({accounts: {alice: {storage: 'keychain'}}});
  });
});
