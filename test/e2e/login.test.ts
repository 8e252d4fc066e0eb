import {mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {createRemoteJWKSet, jwtVerify, type JWTPayload} from 'jose';
import * as client from 'openid-client';
import {registryAudience} from '@hub/protocol/registry-audience';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {TestBrowser} from '@hub/test-stack/browser';
import {runHub, transcript} from '@hub/test-stack/hub-cli';
import {USERS, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {secretServiceCount, secretServiceSession, type Keyring} from '@hub/test-stack/keyring';
import {startLoginStack, type LoginStack} from '@hub/test-stack/login-stack';
import {e2eEnabled} from '@hub/test-stack/prerequisites';
import type {Sandbox} from '@hub/test-stack/sandbox';

const [alice] = USERS as [(typeof USERS)[number]];
const REGISTRY = 'registry.test:5000';

describe.runIf(e2eEnabled())('hub login / token / status / logout against a real provider, browser and keychain', () => {
  let sandbox: Sandbox;
  let keyring: Keyring;
  let idp: IdentityProvider;
  let browser: TestBrowser;
  let env: NodeJS.ProcessEnv;
  const seenTokens = new Set<string>();

  let stack: LoginStack;

  beforeAll(async () => {
    stack = await startLoginStack();
    ({sandbox, keyring, idp, browser, env} = stack);
  });

  afterAll(() => stack?.stop());

  async function loginAs(user = alice, extra: string[] = []) {
    const login = runHub(['login', REGISTRY, '--issuer', idp.issuer, '--client-id', idp.clientId, ...extra], env);
    const page = await browser.signIn(await browser.nextUrl(), user);
    return {result: await login, page};
  }

  /** `hub status` answers without oclif (src/fast-path.ts): it must print what the oclif command prints. */
  async function statusBothWays(args: string[], runEnv = env) {
    const [fast, oclif] = await Promise.all([runHub(args, runEnv), runHub(args, runEnv, {throughOclif: true})]);
    expect(fast).toEqual(oclif);
    return fast;
  }

  it('logs in through the browser and keeps the tokens in the Secret Service', async () => {
    const before = await statusBothWays(['status']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('Not logged in');
    expect((await statusBothWays(['status', '--json'])).stdout).toBe('[]\n');

    const {result, page} = await loginAs();
    expect(result.stderr).toContain(`Logged in to ${REGISTRY} as alice`);
    expect(result.code).toBe(0);
    expect(page).toContain(`Signed in to ${REGISTRY} as alice`);

    const stored = await secretServiceSession(keyring.env, REGISTRY);
    expect(stored).toMatchObject({registry: REGISTRY, account: 'alice', issuer: idp.issuer, clientId: idp.clientId});
    expect(typeof stored?.accessToken).toBe('string');
    expect(typeof stored?.refreshToken).toBe('string');
    seenTokens.add(stored!.accessToken as string).add(stored!.refreshToken as string);

    // No tokens in plain files: the settings hold only where to sign in.
    const settings = await stat(join(sandbox.configDir, 'config.json'));
    expect(settings.mode & 0o777).toBe(0o600);

    const after = await statusBothWays(['status', '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject([
      {registry: REGISTRY, account: 'alice', storage: 'keychain', usable: true, state: 'valid'},
    ]);
    expect((await statusBothWays(['status'])).stderr).toContain(`✓ ${REGISTRY}\n    account:  alice`);
  });

  /** The claims of an access token the provider signed for this registry (its audience, https://REGISTRY), as hub-auth checks it. */
  async function issuedForRegistry(token: string): Promise<JWTPayload> {
    const {payload} = await jwtVerify(token, createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)), {
      issuer: idp.issuer,
      audience: registryAudience(REGISTRY),
    });
    return payload;
  }

  it('hub status reports HUB_TOKEN (registry, account, expiry) instead of "Not logged in", the same without oclif', async () => {
    const token = (await runHub(['token', REGISTRY], env)).stdout.trim();
    const ci = {...env, HUB_TOKEN: token, HUB_REGISTRY: REGISTRY};
    const human = await statusBothWays(['status'], ci);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain(`✓ ${REGISTRY}\n    account:  alice\n    issuer:   ${idp.issuer}\n    token:    expires `);
    expect(human.stderr).toContain('storage:  environment (HUB_TOKEN');
    expect(human.stderr).not.toContain('Not logged in');
    const json = await statusBothWays(['status', '--json'], ci);
    expect(JSON.parse(json.stdout)).toMatchObject([
      {registry: REGISTRY, account: 'alice', storage: 'environment', usable: true, expiresAt: expect.stringMatching(/^\d{4}-/)},
    ]);
    expect(`${human.stdout}${human.stderr}${json.stdout}`).not.toContain(token);
  });

  it('hub token prints a token the provider issued for the registry, and nothing else', async () => {
    const result = await runHub(['token', REGISTRY], env);
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect(result.stdout).toBe(`${token}\n`);
    expect(await issuedForRegistry(token)).toMatchObject({preferred_username: 'alice'});
  });

  it('refreshes the access token when it is about to expire', async () => {
    idp.behave({accessTokenTtl: 30}); // within hub's one-minute margin: every use refreshes
    try {
      const {result} = await loginAs();
      expect(result.code).toBe(0);
      const before = await secretServiceSession(keyring.env, REGISTRY);
      const refreshesBefore = idp.grants.refresh_token ?? 0;

      const token = await runHub(['token'], env);
      // The whole result, so that a failure shows what hub said.
      expect(token).toMatchObject({code: 0});
      const after = await secretServiceSession(keyring.env, REGISTRY);
      expect(idp.grants.refresh_token).toBe(refreshesBefore + 1);
      expect(token.stdout.trim()).toBe(after?.accessToken);
      expect(after?.accessToken).not.toBe(before?.accessToken);
      // The provider rotates refresh tokens for public clients; the new one must be kept.
      expect(after?.refreshToken).not.toBe(before?.refreshToken);
      for (const session of [before, after]) seenTokens.add(session!.accessToken as string).add(session!.refreshToken as string);
      // The refresh asked for the registry's audience again.
      expect(await issuedForRegistry(token.stdout.trim())).toMatchObject({preferred_username: 'alice'});
    } finally {
      idp.behave({accessTokenTtl: 600});
    }
  });

  it('logs out: the provider revokes the refresh token and the keychain entries are gone', async () => {
    const {result} = await loginAs();
    expect(result.code).toBe(0);
    const session = await secretServiceSession(keyring.env, REGISTRY);
    seenTokens.add(session!.accessToken as string).add(session!.refreshToken as string);

    const out = await runHub(['logout', REGISTRY], env);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`Logged out of ${REGISTRY}`);
    expect(await secretServiceCount(keyring.env)).toBe(0);

    const config = await client.discovery(new URL(idp.issuer), idp.clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    await expect(client.refreshTokenGrant(config, session!.refreshToken as string)).rejects.toMatchObject({error: 'invalid_grant'});

    const status = await runHub(['status'], env);
    expect(status.code).toBe(1);
    const token = await runHub(['token', REGISTRY], env);
    expect(token.code).toBe(1);
    expect(token.stderr).toContain(`not logged in to ${REGISTRY}`);
  });

  it('keeps several registries apart, and a provider outage loses no session', async () => {
    const second = 'other.registry.test';
    expect((await loginAs()).result.code).toBe(0);
    const login = runHub(['login', second, '--issuer', idp.issuer, '--client-id', idp.clientId], env);
    await browser.signIn(await browser.nextUrl(), USERS[1]!);
    expect((await login).code).toBe(0);
    const status = await runHub(['status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject([
      {registry: REGISTRY, account: 'alice', usable: true},
      {registry: second, account: 'bob', usable: true},
    ]);
    // With several registries, a command without one asks which.
    const ambiguous = await runHub(['token'], env);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`hub knows several: ${REGISTRY}, ${second}`);

    // A refresh that cannot reach the provider fails clearly and keeps the session.
    idp.behave({accessTokenTtl: 30});
    const {result} = await loginAs();
    expect(result.code).toBe(0);
    const before = await secretServiceSession(keyring.env, REGISTRY);
    seenTokens.add(before!.accessToken as string).add(before!.refreshToken as string);
    idp.behave({down: true});
    try {
      const failed = await runHub(['token', REGISTRY], env);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toBe('');
      expect(failed.stderr).toContain('The session is kept; try again.');
      expect(await secretServiceSession(keyring.env, REGISTRY)).toEqual(before);
    } finally {
      idp.behave({down: false});
      idp.behave({accessTokenTtl: 600});
    }
    const retried = await runHub(['token', REGISTRY], env);
    expect(retried.code).toBe(0);

    // Logging out while the provider is down still forgets the session here, and says so.
    idp.behave({down: true});
    try {
      const out = await runHub(['logout', '--all'], env);
      expect(out.code).toBe(0);
      expect(out.stderr).toContain(`Could not revoke the session at ${idp.issuer}`);
      expect(out.stderr).toContain(`Logged out of ${REGISTRY}`);
      expect(out.stderr).toContain(`Logged out of ${second}`);
    } finally {
      idp.behave({down: false});
    }
    expect(await secretServiceCount(keyring.env)).toBe(0);
    expect((await runHub(['status'], env)).code).toBe(1);
  });

  it('hub status on a settings file it cannot read: the error oclif prints, and the file untouched', async () => {
    const settings = join(sandbox.configDir, 'config.json');
    await mkdir(sandbox.configDir, {recursive: true});
    await writeFile(settings, '{"registries": {');
    try {
      const human = await statusBothWays(['status']);
      expect(human.code).toBe(1);
      expect(human.stderr).toContain(settings);
      const json = await statusBothWays(['status', '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 'corrupt_file'}});
      expect(await readFile(settings, 'utf8')).toBe('{"registries": {');
    } finally {
      await rm(settings);
    }
  });

  it('never prints a token, except `hub token` on stdout', () => {
    expect(seenTokens.size).toBeGreaterThan(0);
    for (const {stdout, stderr} of transcript) {
      for (const token of seenTokens) {
        expect(stderr).not.toContain(token);
        if (!/^[\w.-]+\n$/.test(stdout)) expect(stdout).not.toContain(token);
      }
    }
  });
});
