import {execFile} from 'node:child_process';
import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {registryAudience} from '@hub/protocol/registry-audience';
import {makeImage} from '@hub/test-stack/docker-engine';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {SERVICE} from '@hub/test-stack/hub-auth';
import {runHub} from '@hub/test-stack/hub-cli';
import {USERS, type TestUser} from '@hub/test-stack/identity-provider';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {startScaledRegistry} from '@hub/test-stack/scale-out';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';

const [alice, bob] = USERS as [TestUser, TestUser];
/** refreshTokens.revalidateSeconds here: its minimum, so that the test waits a minute, not an hour. */
const WINDOW = 60;

/**
 * Access ends when it should, on the real stack: `hub logout` ends the sign-in behind a copied
 * identity token on every hub-auth instance; a plain `docker login` lapses once its session was
 * not re-checked within refreshTokens.revalidateSeconds, while hub's credential helper keeps its
 * own re-checked; a person moved out of a group at the provider loses the group at the next
 * re-check. Each done as the person (or whoever copied the token) would, with docker.
 */
describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('sign-in sessions reach docker', () => {
  let stack: RegistryStack;
  let env: NodeJS.ProcessEnv;
  let bin: string;

  beforeAll(async () => {
    stack = await startRegistryStack({hubAuth: {refreshTokens: {revalidateSeconds: WINDOW}}});
    // docker finds docker-credential-hub on PATH, as after `npm install -g`.
    ({bin, env} = await withHubOnPath(stack.sandbox.dir, stack.env));
    await makeImage(env, stack.sandbox.dir, 'sessions:source', 64 * 1024);
  });

  afterAll(() => stack?.stop());

  function run(file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, input = ''): Promise<{code: number; output: string}> {
    return new Promise((resolve) => {
      const child = execFile(file, args, {env: {...env, ...extraEnv}}, (error, stdout, stderr) =>
        resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`}),
      );
      child.stdin!.end(input);
    });
  }

  const docker = (args: string[], dockerConfig?: string, input = '') =>
    run('docker', args, dockerConfig ? {DOCKER_CONFIG: dockerConfig} : {}, input);

  /** Tags the test image as `reference` and pushes it, with hub's helper or with the docker config given. */
  async function push(reference: string, dockerConfig?: string) {
    await docker(['tag', 'sessions:source', reference]);
    return docker(['push', reference], dockerConfig);
  }

  /** A pull of `reference` that has to go to the registry: the local copy is removed first. */
  async function pull(reference: string, dockerConfig?: string) {
    await docker(['rmi', reference]);
    return docker(['pull', reference], dockerConfig);
  }

  async function hubLogin(host: string, user: TestUser) {
    const login = runHub(['login', host, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId], env);
    await stack.browser.signIn(await stack.browser.nextUrl(), user);
    const result = await login;
    expect(result.code, result.stderr).toBe(0);
  }

  /**
   * `docker login` with a provider access token, in a docker config of its own, and the identity
   * token hub-auth answers that login with, asked for as the engine asks at `docker login` (GET with
   * Basic, offline_token=true, client_id=docker): docker itself may keep its copy in a credential
   * store the test does not read.
   */
  async function plainDockerLogin(
    user: TestUser,
    name: string,
    host = stack.registry.host,
  ): Promise<{config: string; identityToken: string}> {
    const config = join(stack.sandbox.dir, `docker-${name}`);
    await mkdir(config, {recursive: true});
    const token = await stack.idp.issueOpaqueToken(user.username, undefined, registryAudience(host));
    const login = await docker(['login', host, '--username', 'anyone', '--password-stdin'], config, token);
    expect(login.code, login.output).toBe(0);
    const answer = await fetch(`${stack.hubAuth.url}/token?service=${SERVICE}&offline_token=true&client_id=docker`, {
      headers: {authorization: `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}`},
    });
    return {config, identityToken: ((await answer.json()) as {refresh_token: string}).refresh_token};
  }

  /** docker's identity-token request (grant_type=refresh_token) at one hub-auth. */
  async function refreshGrant(hubAuthUrl: string, identityToken: string, scope = 'repository:alice/sessions:pull') {
    const answer = await fetch(`${hubAuthUrl}/token`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'refresh_token', service: SERVICE, scope, refresh_token: identityToken}),
    });
    return {status: answer.status, body: (await answer.json()) as {token?: string; error?: string; error_description?: string}};
  }

  it('after hub logout, a copy of the identity token taken before is refused by every one of three hub-auth instances, and docker pull with it fails', async () => {
    const dir = join(stack.sandbox.dir, 'scale');
    const {
      instances,
      registry: scaled,
      stop,
    } = await startScaledRegistry({dir, oidcIssuer: stack.idp.issuer, signing: stack.signing, count: 3});
    try {
      const host = scaled.host;
      const reference = `${host}/alice/sessions:1`;
      await hubLogin(host, alice);
      expect((await push(reference)).code).toBe(0);
      // The copy, as docker-credential-hub hands it to docker (or anyone who can run it as alice).
      const got = await run(join(bin, 'docker-credential-hub'), ['get'], {}, host);
      const copy = (JSON.parse(got.output) as {Username: string; Secret: string}).Secret;
      const thief = join(dir, 'docker-copy');
      await mkdir(thief, {recursive: true});
      await writeFile(
        join(thief, 'config.json'),
        JSON.stringify({auths: {[host]: {auth: Buffer.from('<token>:').toString('base64'), identitytoken: copy}}}),
      );
      expect((await pull(reference, thief)).code).toBe(0);
      for (const instance of instances) expect((await refreshGrant(instance.url, copy)).status).toBe(200);

      const logout = await runHub(['logout', host], env);
      expect(logout.code, logout.stderr).toBe(0);
      expect(logout.stderr).toContain("the registry ended the sign-in (every copy of docker's identity token is refused)");
      // Asked as soon as the logout has returned, well within a second: each instance reads the session's row on every trade.
      for (const instance of instances) {
        expect(await refreshGrant(instance.url, copy)).toMatchObject({
          status: 401,
          body: {error: 'invalid_grant', error_description: expect.stringContaining('ended (logged out): sign in again')},
        });
      }
      const refused = await pull(reference, thief);
      expect(refused.code, refused.output).not.toBe(0);
    } finally {
      await stop();
    }
  });

  it('a person moved out of a group at the provider loses its push at the next re-check, and keeps their own', async () => {
    const groups = alice.groups;
    try {
      const {config} = await plainDockerLogin(alice, 'groups');
      expect((await push(`${stack.registry.host}/groups/dev/sessions:1`, config)).code).toBe(0);
      alice.groups = [];
      // The re-check: a fresh access token of alice's passing through hub-auth (as hub's helper or `hub push` sends one).
      const fresh = await stack.idp.issueOpaqueToken(alice.username, undefined, registryAudience(stack.registry.host));
      const checked = await fetch(`${stack.hubAuth.url}/token?service=${SERVICE}&scope=repository:alice/sessions:pull`, {
        headers: {authorization: `Basic ${Buffer.from(`alice:${fresh}`).toString('base64')}`},
      });
      expect(checked.status).toBe(200);
      const denied = await push(`${stack.registry.host}/groups/dev/sessions:2`, config);
      expect(denied.code, denied.output).not.toBe(0);
      expect(denied.output).toMatch(/denied|unauthorized/i);
      expect((await push(`${stack.registry.host}/alice/sessions:1`, config)).code).toBe(0);
    } finally {
      alice.groups = groups;
    }
  });

  it(`a plain docker login is refused once its session was not re-checked for ${WINDOW} s, and told what to do, while hub's credential helper keeps working`, async () => {
    const registry = stack.registry.host;
    await hubLogin(registry, alice);
    const mine = `${registry}/alice/sessions:1`;
    expect((await push(mine)).code).toBe(0);
    // bob signs in with plain docker only: nothing re-checks his session.
    const plain = await plainDockerLogin(bob, 'plain');
    const his = `${registry}/bob/sessions:1`;
    expect((await push(his, plain.config)).code).toBe(0);

    await sleep((WINDOW + 2) * 1000);

    expect(await refreshGrant(stack.hubAuth.url, plain.identityToken, 'repository:bob/sessions:pull')).toMatchObject({
      status: 401,
      body: {
        error: 'invalid_grant',
        error_description: expect.stringContaining(
          "more than 1 min ago: sign in again (docker login), or use hub's credential helper (hub login), which keeps it confirmed",
        ),
      },
    });
    const lapsed = await pull(his, plain.config);
    expect(lapsed.code, lapsed.output).not.toBe(0);
    // hub's helper re-trades a fresh access token with its identity token when half the window has passed: it still works.
    const pulled = await pull(mine);
    expect(pulled.code, pulled.output).toBe(0);
    const pushed = await runHub(['push', mine], env);
    expect(pushed.code, pushed.stderr).toBe(0);
  });
});
