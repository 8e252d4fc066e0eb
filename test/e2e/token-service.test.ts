import {execFile} from 'node:child_process';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {join} from 'node:path';
import {makeImage} from '@hub/test-stack/docker-engine';
import {waitForOutput} from '@hub/test-stack/process';
import {startScaledRegistry} from '@hub/test-stack/scale-out';
import {runHub} from '@hub/test-stack/hub-cli';
import {USERS} from '@hub/test-stack/identity-provider';
import {registryAudience} from '@hub/protocol/registry-audience';
import {e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';
import {E2E_PROGRAMS} from '@hub/test-stack/prerequisites';
import {secretServiceSession} from '@hub/test-stack/keyring';

const [alice] = USERS as [(typeof USERS)[number]];

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('hub-auth in front of a real registry and engine', () => {
  let stack: RegistryStack;
  let registry: string;

  beforeAll(async () => {
    // The default policy with one rule more, first, as the README shows: alice publishes the
    // repositories anyone may pull (public repositories are pull-only under the default policy).
    stack = await startRegistryStack({
      rules: [
        {match: {account: 'alice', name: 'alice/public-*'}, actions: ['*']},
        {match: {name: 'alice/public-*'}, actions: ['pull']},
        {match: {anonymous: true, name: 'alice/public-*'}, actions: ['pull']},
        {match: {name: 'library/*'}, actions: ['pull']},
        {match: {name: '${account}/*'}, actions: ['*']},
        {match: {name: 'groups/${group}/*'}, actions: ['*']},
      ],
    });
    registry = stack.registry.host;
  });

  afterAll(() => stack?.stop());

  async function docker(args: string[], input?: string): Promise<{code: number; output: string}> {
    return new Promise((resolve) => {
      const child = execFile('docker', args, {env: stack.env}, (error, stdout, stderr) => {
        resolve({code: error ? ((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`});
      });
      child.stdin?.end(input ?? '');
    });
  }

  /** An access token through hub login in the browser: for the registry's audience unless another is named. */
  async function accessTokenFor(user = alice, audience?: string, name = registry): Promise<string> {
    const login = runHub(
      // docker is left alone: these tests drive plain `docker login` with the token, without hub's helper.
      [
        'login',
        name,
        '--issuer',
        stack.idp.issuer,
        '--client-id',
        stack.idp.clientId,
        '--docker-config',
        'none',
        ...(audience ? ['--audience', audience] : []),
      ],
      stack.env,
    );
    await stack.browser.signIn(await stack.browser.nextUrl(), user);
    expect((await login).code).toBe(0);
    const token = await runHub(['token', name], stack.env);
    expect(token.code).toBe(0);
    return token.stdout.trim();
  }

  it('docker login with the OIDC access token, then push and pull through the engine', async () => {
    const token = await accessTokenFor();
    expect(token.split('.')).toHaveLength(3);
    const login = await docker(['login', registry, '--username', 'alice', '--password-stdin'], token);
    expect(login.output).toContain('Login Succeeded');

    await makeImage(stack.env, stack.sandbox.dir, `${registry}/alice/app:1`);
    const push = await docker(['push', `${registry}/alice/app:1`]);
    expect(push.code, push.output).toBe(0);
    await docker(['rmi', `${registry}/alice/app:1`]);
    const pull = await docker(['pull', `${registry}/alice/app:1`]);
    expect(pull.code, pull.output).toBe(0);

    // docker kept our refresh token as its identity token and used it for the push and pull.
    const grants = /"grant":"refresh_token".*"granted":\["repository:alice\/app:(push,pull|pull,push)"\]/;
    expect(await waitForOutput(stack.hubAuth.daemon, grants)).toMatch(grants);
  });

  it("refuses a push to another user's namespace", async () => {
    await makeImage(stack.env, stack.sandbox.dir, `${registry}/bob/app:1`);
    const push = await docker(['push', `${registry}/bob/app:1`]);
    expect(push.code).not.toBe(0);
    expect(push.output).toMatch(/denied|unauthorized|insufficient_scope/i);
  });

  it('lets anonymous users pull a public repository, and not a private one', async () => {
    await makeImage(stack.env, stack.sandbox.dir, `${registry}/alice/public-tools:1`);
    expect((await docker(['push', `${registry}/alice/public-tools:1`])).code).toBe(0);
    await docker(['logout', registry]);
    await docker(['rmi', `${registry}/alice/public-tools:1`, `${registry}/alice/app:1`]);

    const publicPull = await docker(['pull', `${registry}/alice/public-tools:1`]);
    expect(publicPull.code, publicPull.output).toBe(0);
    const privatePull = await docker(['pull', `${registry}/alice/app:1`]);
    expect(privatePull.code).not.toBe(0);
    expect(privatePull.output).toMatch(/denied|unauthorized|not found/i);
  });

  it('accepts opaque access tokens through introspection', async () => {
    // The provider makes opaque tokens for this registry while the login runs (another registry
    // name, so that the session of the other tests stays as it is).
    stack.idp.behave({opaqueResource: registryAudience(registry)});
    const opaque = await accessTokenFor(alice, registryAudience(registry), 'opaque.registry.test').finally(() =>
      stack.idp.behave({opaqueResource: undefined}),
    );
    expect(opaque.split('.')).not.toHaveLength(3);
    const response = await fetch(`${stack.hubAuth.url}/token?service=hub-registry&scope=repository:alice/app:pull`, {
      headers: {authorization: `Basic ${Buffer.from(`alice:${opaque}`).toString('base64')}`},
    });
    expect(response.status).toBe(200);
    const {token} = (await response.json()) as {token: string};
    // A push asks for many tokens: the same access token is introspected once, then cached.
    for (let i = 0; i < 10; i++) {
      const again = await fetch(`${stack.hubAuth.url}/token?service=hub-registry&scope=repository:alice/app:pull`, {
        headers: {authorization: `Basic ${Buffer.from(`alice:${opaque}`).toString('base64')}`},
      });
      expect(again.status).toBe(200);
    }
    const metrics = await (await fetch(`${stack.hubAuth.monitoringUrl}/metrics`)).text();
    expect(metrics).toMatch(/hub_auth_access_token_checks_total\{method="introspection"\} 1\n/);
    expect(metrics).toMatch(/hub_auth_access_token_checks_total\{method="cache"\} (\d+)/);
    const tags = await fetch(`${stack.registry.url}/v2/alice/app/tags/list`, {headers: {authorization: `Bearer ${token}`}});
    expect(tags.status).toBe(200);
    expect(await tags.json()).toEqual({name: 'alice/app', tags: ['1']});
  });

  it("refuses the user's OIDC refresh token, from a real hub login, presented as an access token", async () => {
    // The refresh token is active at the provider and names the same user and client as an access
    // token: introspected without a type check, it passed as the account named by its `sub`.
    const name = 'refresh.registry.test';
    await accessTokenFor(alice, undefined, name);
    const refreshToken = (await secretServiceSession(stack.keyring.env, name))?.refreshToken;
    expect(typeof refreshToken).toBe('string');
    const basic = `Basic ${Buffer.from(`alice:${refreshToken as string}`).toString('base64')}`;
    const asPassword = await fetch(`${stack.hubAuth.url}/token?service=hub-registry&scope=repository:alice/app:pull`, {
      headers: {authorization: basic},
    });
    expect(asPassword.status).toBe(401);
    expect(((await asPassword.json()) as {errors: Array<{message: string}>}).errors[0]!.message).toMatch(
      /not an access token|refresh token is not accepted/,
    );
    const asGrant = await fetch(`${stack.hubAuth.url}/token`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({
        grant_type: 'password',
        password: refreshToken as string,
        service: 'hub-registry',
        scope: 'repository:alice/app:pull',
      }).toString(),
    });
    expect(asGrant.status).toBe(401);
  });

  it('scales out: two hub-auth instances with the same key on one PostgreSQL behind a round-robin proxy both serve the registry', async () => {
    const {
      instances,
      registry: scaled,
      storePassword,
      stop,
    } = await startScaledRegistry({
      dir: join(stack.sandbox.dir, 'scale'),
      oidcIssuer: stack.idp.issuer,
      signing: stack.signing,
      count: 2,
    });
    try {
      // A token for this registry: one for the other registry is refused here (its audience).
      const token = await accessTokenFor(alice, undefined, scaled.host);
      expect((await docker(['login', scaled.host, '--username', 'alice', '--password-stdin'], token)).code).toBe(0);
      // Each instance's listing (`hub images`), asked directly: the first read fills its catalog cache.
      const listed = async (instance: (typeof instances)[number]) => {
        const response = await fetch(`${instance.url}/repositories`, {
          headers: {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`},
        });
        return ((await response.json()) as {repositories: string[]}).repositories;
      };
      for (const instance of instances) expect(await listed(instance)).toEqual([]);
      await makeImage(stack.env, stack.sandbox.dir, `${scaled.host}/alice/scaled:1`, 512 * 1024);
      const push = await docker(['push', `${scaled.host}/alice/scaled:1`]);
      expect(push.code, push.output).toBe(0);
      // The push went through one instance or the other; both list it at once, cache or not.
      for (const instance of instances) expect(await listed(instance)).toEqual(['alice/scaled']);
      await docker(['rmi', `${scaled.host}/alice/scaled:1`]);
      const pull = await docker(['pull', `${scaled.host}/alice/scaled:1`]);
      expect(pull.code, pull.output).toBe(0);
      for (const instance of instances) {
        expect(await waitForOutput(instance.daemon, '"msg":"token issued"')).toContain('"msg":"token issued"');
        expect(instance.daemon.output()).not.toContain(storePassword);
      }
    } finally {
      await stop();
    }
  });
});
