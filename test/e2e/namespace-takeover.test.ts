import {execFile} from 'node:child_process';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeImage} from '@hub/test-stack/docker-engine';
import {waitForOutput} from '@hub/test-stack/process';
import {runHub} from '@hub/test-stack/hub-cli';
import {registryAudience} from '@hub/protocol/registry-audience';
import {LOOKALIKE_USERS, ROBOT_CLIENT, USERS} from '@hub/test-stack/identity-provider';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';

const [alice, bob] = USERS as [(typeof USERS)[number], (typeof USERS)[number]];
const lookalike = (username: string) => LOOKALIKE_USERS.find((user) => user.username === username)!;

/**
 * Namespace takeover, done as an attacker would: sign in at the identity provider as a user whose
 * name collides with someone else's namespace, `docker login` to the registry with that access
 * token, and `docker push` into the namespace. The provider issues the tokens (for the CLI
 * client, as after a sign-in) and hub-auth checks them with the provider by introspection.
 */
describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('namespace takeover through look-alike and shared names', () => {
  let stack: RegistryStack;
  let registry: string;

  beforeAll(async () => {
    stack = await startRegistryStack();
    registry = stack.registry.host;
    await makeImage(stack.env, stack.sandbox.dir, 'takeover:source');
    // The victim's image: alice pushes alice/app:latest before anyone else shows up.
    await loginAs(alice.username);
    expect((await push('alice/app:latest')).code).toBe(0);
  });

  afterAll(() => stack?.stop());

  function docker(args: string[], input?: string): Promise<{code: number; output: string}> {
    return new Promise((resolve) => {
      const child = execFile('docker', args, {env: stack.env}, (error, stdout, stderr) => {
        resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`});
      });
      child.stdin?.end(input ?? '');
    });
  }

  async function loginWithToken(token: string): Promise<{code: number; output: string}> {
    await docker(['logout', registry]);
    return docker(['login', registry, '--username', 'anyone', '--password-stdin'], token);
  }

  /** An opaque access token the provider issued to this user for this registry. */
  function opaqueToken(username: string): Promise<string> {
    return stack.idp.issueOpaqueToken(username, undefined, registryAudience(registry));
  }

  async function loginAs(username: string): Promise<{code: number; output: string}> {
    return loginWithToken(await opaqueToken(username));
  }

  async function push(repository: string): Promise<{code: number; output: string}> {
    const reference = `${registry}/${repository}`;
    await docker(['tag', 'takeover:source', reference]);
    return docker(['push', reference]);
  }

  /** The digest of alice/app:latest as the registry holds it, asked with alice's token. */
  async function victimDigest(): Promise<string | null> {
    const token = await opaqueToken(alice.username);
    const grant = await fetch(`${stack.hubAuth.url}/token?service=hub-registry&scope=repository:alice/app:pull`, {
      headers: {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`},
    });
    const registryToken = ((await grant.json()) as {token: string}).token;
    const manifest = await fetch(`${stack.registry.url}/v2/alice/app/manifests/latest`, {
      method: 'HEAD',
      headers: {authorization: `Bearer ${registryToken}`, accept: 'application/vnd.docker.distribution.manifest.v2+json'},
    });
    return manifest.headers.get('docker-content-digest');
  }

  /** hub-auth's log once it holds `pattern` (it writes in batches). */
  function hubAuthLog(pattern: RegExp | string = '"msg"'): Promise<string> {
    return waitForOutput(stack.hubAuth.daemon, pattern);
  }

  it.each(['Alice', 'alice_', '.alice.', 'alice@'])(
    'a user named %j cannot log in, so cannot push over alice/app:latest',
    async (username) => {
      const before = await victimDigest();
      expect(before).toMatch(/^sha256:/);
      const login = await loginAs(lookalike(username).username);
      expect(login.code).not.toBe(0);
      expect(login.output).not.toContain('Login Succeeded');
      const attempt = await push('alice/app:latest');
      expect(attempt.code).not.toBe(0);
      expect(await victimDigest()).toBe(before);
      // The operator is told which claim and why, never the token.
      const subject = `"subject":${JSON.stringify(`sub-${username}-7f3a`)}`;
      const log = await hubAuthLog(subject);
      const line = log.split('\n').find((l) => l.includes('"account refused"') && l.includes(subject));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({
        level: 40,
        claim: 'preferred_username',
        reason: expect.stringContaining('not a repository path component'),
      });
    },
  );

  it('the refusal tells the user what is wrong and whom to ask', async () => {
    const token = await opaqueToken('Alice');
    const answer = await fetch(`${stack.hubAuth.url}/token?service=hub-registry&scope=repository:alice/app:push`, {
      headers: {authorization: `Basic ${Buffer.from(`Alice:${token}`).toString('base64')}`},
    });
    expect(answer.status).toBe(403);
    const body = (await answer.json()) as {errors: Array<{code: string; message: string}>};
    expect(body.errors[0]).toMatchObject({code: 'DENIED', message: expect.stringContaining("ask the registry's operator")});
    expect(await hubAuthLog()).not.toContain(token);
  });

  it('another subject whose provider-chosen username is "alice" is refused: the name belongs to the first subject', async () => {
    const before = await victimDigest();
    const login = await loginAs(lookalike('mallory').username);
    expect(login.code).not.toBe(0);
    expect((await push('alice/app:latest')).code).not.toBe(0);
    expect(await victimDigest()).toBe(before);
    // The binding is in hub-auth's store (open in its process only): its refusal names the name and the subject refused.
    const refused = /"account":"alice"[^\n]*bound to another subject|bound to another subject[^\n]*"account":"alice"/;
    expect(await hubAuthLog(refused)).toMatch(refused);
    // alice herself is not locked out by the attempt.
    expect((await loginAs(alice.username)).code).toBe(0);
    expect((await push('alice/app:latest')).code).toBe(0);
  });

  it('a user named "public" cannot log in, nor push into the anonymously pulled public/*', async () => {
    const login = await loginAs(lookalike('public').username);
    expect(login.code).not.toBe(0);
    expect((await push('public/app:1')).code).not.toBe(0);
    expect(await hubAuthLog('"reason":"is reserved on this registry"')).toMatch(
      /"account refused".*"reason":"is reserved on this registry"/,
    );
  });

  it('a user named "dev" owns dev/, not the namespace of the group dev (groups/dev/), and the group owns nothing of dev/', async () => {
    expect((await loginAs(lookalike('dev').username)).code).toBe(0);
    expect((await push('groups/dev/tool:1')).code).not.toBe(0);
    expect((await push('dev/app:1')).code).toBe(0);
    // alice, a member of the group dev, pushes to the group's namespace and not to the user dev's.
    expect((await loginAs(alice.username)).code).toBe(0);
    expect((await push('groups/dev/tool:2')).code).toBe(0);
    expect((await push('dev/app:1')).code).not.toBe(0);
  });

  it("a user named like the robot's client id gets nothing of the robot's namespace (robots/ci-robot/), nor the robot of theirs", async () => {
    const discovery = (await (await fetch(`${stack.idp.issuer}/.well-known/openid-configuration`)).json()) as {token_endpoint: string};
    const granted = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${ROBOT_CLIENT.id}:${ROBOT_CLIENT.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({grant_type: 'client_credentials', resource: registryAudience(registry)}),
    });
    const robotToken = ((await granted.json()) as {access_token: string}).access_token;
    expect((await loginWithToken(robotToken)).code).toBe(0);
    expect((await push(`robots/${ROBOT_CLIENT.id}/app:1`)).code).toBe(0);
    expect((await push(`${ROBOT_CLIENT.id}/app:1`)).code).not.toBe(0);

    expect((await loginAs(lookalike('ci-robot').username)).code).toBe(0);
    expect((await push(`robots/${ROBOT_CLIENT.id}/app:2`)).code).not.toBe(0);
    expect((await push(`${ROBOT_CLIENT.id}/app:1`)).code).toBe(0);
  });

  it('hub images lists what the user may pull without the user being granted the catalog, which lists everything', async () => {
    expect((await loginAs(alice.username)).code).toBe(0);
    expect((await push('groups/dev/tool:1')).code).toBe(0);
    expect((await loginAs(bob.username)).code).toBe(0);
    expect((await push('bob/secret-project:1')).code).toBe(0);

    const login = runHub(
      ['login', registry, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId, '--docker-config', 'none'],
      stack.env,
    );
    await stack.browser.signIn(await stack.browser.nextUrl(), alice);
    expect((await login).code).toBe(0);
    const listed = await runHub(['images', '--json'], stack.env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({registry, repositories: [{name: 'alice/app'}, {name: 'groups/dev/tool'}]});

    // alice asking the registry's catalog herself gets a token without it, and the registry refuses.
    const token = (await runHub(['token', registry], stack.env)).stdout.trim();
    const grant = await fetch(`${stack.hubAuth.url}/token?service=hub-registry&scope=registry:catalog:*`, {
      headers: {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`},
    });
    const registryToken = ((await grant.json()) as {token: string}).token;
    const catalog = await fetch(`${stack.registry.url}/v2/_catalog`, {headers: {authorization: `Bearer ${registryToken}`}});
    expect(catalog.status).toBe(401);
    expect(await catalog.text()).not.toContain('bob/secret-project');
  });
});
