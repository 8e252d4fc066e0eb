import {execFile} from 'node:child_process';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {jwtClaims} from '../../src/auth/jwt-claims.js';
import type {ProviderUnderTest} from './providers/provider.js';
import {PROVIDERS} from './providers/index.js';
import {startBrowser, type TestBrowser} from '@hub/test-stack/browser';
import {makeImage} from '@hub/test-stack/docker-engine';
import {SERVICE} from '@hub/test-stack/hub-auth';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {runHub} from '@hub/test-stack/hub-cli';
import {secretServiceSession, startKeyring, type Keyring} from '@hub/test-stack/keyring';
import {freePort} from '@hub/test-stack/ports';
import {assertPrograms, E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryParts, type RegistryParts} from '@hub/test-stack/registry-stack';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

/**
 * The same checks on every real OpenID provider in test/e2e/providers/index.ts, each set up as
 * its own documentation says, one provider at a time: hub and hub-auth adapt to the provider,
 * not the other way round. One browser login serves most checks, to keep the suite short.
 */
describe.each(PROVIDERS)('with $name as the identity provider', ({name, programs, start}) => {
  describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS, ...programs]))('hub and hub-auth, end to end', () => {
    let sandbox: Sandbox;
    let keyring: Keyring;
    let browser: TestBrowser;
    let provider: ProviderUnderTest;
    let parts: RegistryParts;
    let registry: string;
    let env: NodeJS.ProcessEnv;
    const stops: Array<() => Promise<void>> = [];
    const startedAt = Date.now();

    beforeAll(async () => {
      assertPrograms([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS, ...programs]);
      sandbox = await createSandbox(`hub-e2e-${name}`);
      stops.push(() => sandbox.remove());
      keyring = await startKeyring(sandbox);
      stops.push(() => keyring.stop());
      browser = await startBrowser();
      stops.push(() => browser.stop());
      const registryPort = await freePort();
      registry = `127.0.0.1:${registryPort}`;
      provider = await start({dir: join(sandbox.dir, name), registryHost: registry});
      stops.push(() => provider.stop());
      parts = await startRegistryParts({
        dir: sandbox.dir,
        registryPort,
        hubAuth: {
          oidcIssuer: provider.issuer,
          oidcSection: provider.hubAuthOidc(registry),
          env: provider.hubAuthEnv,
          // What `hub login REGISTRY` learns from /.well-known/hub-configuration: the operator publishes the provider's clients.
          extra: {
            client: {
              clientId: provider.clientId,
              ...(provider.deviceClientId ? {deviceClientId: provider.deviceClientId} : {}),
              ...(provider.scopes ? {scopes: provider.scopes} : {}),
            },
          },
        },
      });
      stops.push(() => parts.stop());
      ({env} = await withHubOnPath(sandbox.dir, {...keyring.env, ...browser.env, DOCKER_HOST: parts.engine.host}));
    }, 120_000);

    afterAll(async () => {
      for (const stop of stops.reverse()) await stop();
      console.log(`provider suite with ${name}: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    }, 60_000);

    /** Zero-config login in the browser: issuer, client and scopes come from the registry's hub-auth. */
    async function browserLogin(user: 'alice' | 'bob') {
      const login = runHub(['login', registry, '--yes', ...(provider.redirectPort ? ['--port', String(provider.redirectPort)] : [])], env);
      const page = await browser.signInWith(await browser.nextUrl(), (p) => provider.signIn(p, provider.users[user]));
      return {result: await login, page};
    }

    function docker(args: string[]): Promise<{code: number; output: string}> {
      return new Promise((resolve) => {
        execFile('docker', args, {env}, (error, stdout, stderr) =>
          resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`}),
        );
      });
    }

    function helperGet(): Promise<{code: number; stdout: string}> {
      return new Promise((resolve) => {
        const child = execFile('docker-credential-hub', ['get'], {env}, (error, stdout) =>
          resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, stdout}),
        );
        child.stdin!.end(registry);
      });
    }

    async function stored() {
      const session = await secretServiceSession(keyring.env, registry);
      expect(session).toBeDefined();
      return session as {accessToken: string; refreshToken?: string; clientId: string; account: string; identityToken?: {token: string}};
    }

    it('browser login with PKCE: the account is the one hub-auth names', async () => {
      const {result, page} = await browserLogin('alice');
      expect(result.stderr).toContain(`Logged in to ${registry} as alice`);
      expect(result.code).toBe(0);
      expect(page).toContain(`Signed in to ${registry} as alice`);
      expect(await stored()).toMatchObject({account: 'alice', clientId: provider.clientId});
    });

    it(`hub-auth takes the provider's access tokens`, async () => {
      const token = (await runHub(['token', registry], env)).stdout.trim();
      expect(token.split('.').length === 3).toBe(provider.accessTokens === 'jwt');
      if (provider.accessTokens === 'jwt') expect(jwtClaims(token)).toMatchObject({iss: provider.issuer});
      const answer = await fetch(`${parts.hubAuth.url}/token?service=${SERVICE}&scope=repository:alice/app:push,pull`, {
        headers: {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`},
      });
      expect(answer.status).toBe(200);
      const {token: registryToken} = (await answer.json()) as {token: string};
      expect(jwtClaims(registryToken)).toMatchObject({
        sub: 'alice',
        access: [{type: 'repository', name: 'alice/app', actions: expect.arrayContaining(['push', 'pull'])}],
      });
    });

    it('hub push, then a plain docker pull through the credential helper', async () => {
      await makeImage(env, sandbox.dir, 'app:1');
      const pushed = await runHub(['push', 'app:1'], env);
      expect(pushed.stderr).toContain(`✓ Pushed ${registry}/alice/app:1`);
      expect(pushed.code).toBe(0);
      expect((await docker(['rmi', `${registry}/alice/app:1`])).code).toBe(0);
      const pulled = await docker(['pull', `${registry}/alice/app:1`]);
      expect(pulled.code, pulled.output).toBe(0);
    });

    it('refresh at expiry with rotation: several credential helpers at once share one refresh', async () => {
      await provider.setAccessTokenTtl(30); // inside hub's one-minute margin: the next use refreshes
      try {
        expect((await browserLogin('alice')).result.code).toBe(0);
      } finally {
        await provider.setAccessTokenTtl(600);
      }
      const before = await stored();
      const answers = await Promise.all(Array.from({length: 5}, () => helperGet()));
      expect(answers.map((answer) => answer.code)).toEqual([0, 0, 0, 0, 0]);
      const secrets = new Set(answers.map((answer) => (JSON.parse(answer.stdout) as {Secret: string}).Secret));
      expect(secrets.size).toBe(1);
      const after = await stored();
      // The engine gets docker's identity token (hub-auth's refresh token, kept with the session), which outlives the access token.
      expect(after.identityToken).toBeDefined();
      expect([...secrets][0]).toBe(after.identityToken!.token);
      expect(after.accessToken).not.toBe(before.accessToken);
      expect(after.refreshToken).toBeDefined();
      // Without rotation hub keeps the one it has (the refresh answer names none).
      if (provider.rotatesRefreshTokens === false) expect(after.refreshToken).toBe(before.refreshToken);
      else expect(after.refreshToken).not.toBe(before.refreshToken);
      const pulled = await docker(['pull', `${registry}/alice/app:1`]);
      expect(pulled.code, pulled.output).toBe(0);
    });

    it('the device flow, with the client hub-auth publishes for it; without an ID token where the provider allows plain OAuth 2.0', async ({
      skip,
    }) => {
      if (!provider.deviceClientId || !provider.approveDevice) return skip('the provider offers no device flow');
      const {HUB_BROWSER: _browser, ...noBrowser} = env;
      let shown = '';
      const scopes = provider.oauthOnlyScopes ? ['--scope', provider.oauthOnlyScopes] : [];
      const login = runHub(['login', registry, '--device', '--yes', ...scopes], noBrowser, {onStderr: (text) => (shown = text)});
      await expect.poll(() => /open (\S+) on any device and enter the code (\S+)/.exec(shown), {timeout: 30_000}).toBeTruthy();
      const [, uri, code] = /open (\S+) on any device and enter the code (\S+)/.exec(shown)!;
      await browser.withPage((page) => provider.approveDevice!(page, uri!, code!, provider.users.alice));
      const result = await login;
      expect(result.stderr).toContain(`Logged in to ${registry} as alice`);
      expect(result.code).toBe(0);
      expect(await stored()).toMatchObject({account: 'alice', clientId: provider.deviceClientId});
      expect((await runHub(['images', '--json'], env)).code).toBe(0);
    });

    it(`logout asks the provider to revoke the refresh token, checked at the provider`, async () => {
      const session = await stored();
      const out = await runHub(['logout', registry], env);
      expect(out.code).toBe(0);
      expect(out.stderr).toContain(`Logged out of ${registry}`);
      if (provider.revokesPublicClientTokens) {
        expect(out.stderr).toContain('the provider revoked the session');
        expect(await provider.refreshTokenWorks(session.refreshToken!, session.clientId)).toBe(false);
      } else {
        // Said plainly, whether the provider has no revocation endpoint or refused hub's request;
        // and true: the refresh token still works there.
        expect(out.stderr).not.toContain('the provider revoked the session');
        expect(out.stderr).toMatch(/Could not revoke the session|offers no token revocation/);
        expect(await provider.refreshTokenWorks(session.refreshToken!, session.clientId)).toBe(true);
      }
    });

    it('the policy refuses bob on alice/*', async () => {
      const {result} = await browserLogin('bob');
      expect(result.stderr).toContain(`Logged in to ${registry} as bob`);
      await makeImage(env, sandbox.dir, `${registry}/alice/app:bob`);
      const refused = await runHub(['push', `${registry}/alice/app:bob`], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`The registry refused to let you push ${registry}/alice/app:bob`);
      expect(refused.stderr).toContain(`you may push to ${registry}/bob/`);
    });
  });
});
