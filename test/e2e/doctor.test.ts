import {join} from 'node:path';
import * as client from 'openid-client';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CHECK_NAMES, type CheckName, type CheckResult} from '../../src/doctor/checkup.js';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {runHub, transcript} from '@hub/test-stack/hub-cli';
import {USERS} from '@hub/test-stack/identity-provider';
import {secretServiceSession} from '@hub/test-stack/keyring';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';

const [alice] = USERS as [(typeof USERS)[number]];

/** Each run refreshes the session, so the expiry it shows differs from one run to the next. */
const untimed = (text: string) => text.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');

interface Broken {
  name: CheckName;
  detail: string;
  fix: string;
  /** Checks broken the same way (both helper checks, when the helper is not on PATH). */
  alike?: CheckName[];
  /** The checks that build on the broken one, each with the check it names as missing. */
  skipped?: Partial<Record<CheckName, CheckName>>;
}

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))(
  'hub doctor checks every link to the registry and names the broken one',
  () => {
    let stack: RegistryStack;
    let registry: string;
    let env: NodeJS.ProcessEnv;
    const seenTokens = new Set<string>();

    beforeAll(async () => {
      stack = await startRegistryStack();
      registry = stack.registry.host;
      ({env} = await withHubOnPath(stack.sandbox.dir, stack.env));
      // Inside hub's one-minute margin: every session check refreshes at the provider, so a revoked session shows.
      stack.idp.behave({accessTokenTtl: 30});
      await login();
    });

    afterAll(() => stack?.stop());

    async function login(): Promise<void> {
      const run = runHub(['login', registry, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId], env);
      await stack.browser.signIn(await stack.browser.nextUrl(), alice);
      const result = await run;
      expect(result.code, result.stderr).toBe(0);
      await rememberTokens();
    }

    async function rememberTokens(): Promise<void> {
      const session = await secretServiceSession(stack.keyring.env, registry).catch(() => undefined);
      for (const token of [session?.accessToken, session?.refreshToken]) if (typeof token === 'string') seenTokens.add(token);
    }

    /** `hub doctor` in JSON and in prose, which must tell the same story with the same exit code. */
    async function doctor(
      args: string[],
      overrides: NodeJS.ProcessEnv = {},
    ): Promise<{code: number | null; checks: CheckResult[]; prose: string}> {
      const json = await runHub(['doctor', ...args, '--json'], {...env, ...overrides});
      const prose = await runHub(['doctor', ...args], {...env, ...overrides});
      await rememberTokens();
      expect(prose.code, prose.stderr).toBe(json.code);
      const checks = JSON.parse(json.stdout) as CheckResult[];
      for (const check of checks) {
        const line = `${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}\n`;
        expect(untimed(prose.stderr)).toContain(untimed(check.fix ? `${line}  → ${check.fix}\n` : line));
      }
      return {code: json.code, checks, prose: prose.stderr};
    }

    function expectOnlyBroken(checks: CheckResult[], broken: Broken): void {
      expect(checks.map((check) => check.name)).toEqual([...CHECK_NAMES]);
      for (const check of checks) {
        const needs = broken.skipped?.[check.name];
        if (check.name === broken.name || broken.alike?.includes(check.name)) {
          expect(check.ok).toBe(false);
          expect(check.detail).toContain(broken.detail);
          expect(check.fix).toContain(broken.fix);
        } else if (needs) {
          expect(check).toEqual({name: check.name, ok: false, detail: `skipped: needs ${needs}`});
        } else {
          expect(check.ok, `${check.name}: ${check.detail}`).toBe(true);
        }
      }
    }

    async function expectBroken(args: string[], overrides: NodeJS.ProcessEnv, broken: Broken): Promise<void> {
      const {code, checks} = await doctor(args, overrides);
      expect(code).toBe(1);
      expectOnlyBroken(checks, broken);
    }

    it('passes every check on a working setup, for the only registry hub knows', async () => {
      const {code, checks, prose} = await doctor([]);
      expect(code, prose).toBe(0);
      expect(checks.every((check) => check.ok && check.fix === undefined)).toBe(true);
      expect(checks.map((check) => check.name)).toEqual([...CHECK_NAMES]);
      expect(prose).toContain('✓ keychain: Secret Service\n');
      expect(prose).toContain(`✓ identity provider: ${stack.idp.issuer}`);
      expect(prose).toContain('✓ session: signed in as alice, access token valid until ');
      expect(prose).toContain(`✓ hub-auth: ${stack.realm.url}/token accepted the access token of alice\n`);
      expect(prose).toContain(`✓ Docker engine: ${stack.engine.host} (from DOCKER_HOST) answers\n`);
      expect(prose).toContain(`docker-credential-hub answers for ${registry} as alice`);
      expect(prose).toContain(
        `answers for ${registry} as alice, with docker's identity token (podman and buildah find it through credHelpers in ${join(stack.sandbox.dir, 'run', 'containers', 'auth.json')})`,
      );
      expect(prose).toContain('All 9 checks passed.');
    });

    it('names the Docker engine it tried when none answers', async () => {
      const socket = join(stack.sandbox.dir, 'no-engine.sock');
      await expectBroken(
        [registry],
        {DOCKER_HOST: `unix://${socket}`},
        {
          name: 'Docker engine',
          detail: `Cannot reach the Docker engine at unix://${socket} (from DOCKER_HOST)`,
          fix: 'Start Docker, or point DOCKER_HOST',
        },
      );
    });

    it('without a keychain, says so, and skips what needs the tokens', async () => {
      await expectBroken(
        [registry],
        {DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(stack.sandbox.dir, 'no-bus')}`},
        {
          name: 'keychain',
          detail: 'The Secret Service keychain cannot be used: there is no D-Bus session bus',
          fix: 'Start and unlock a Secret Service provider',
          skipped: {
            session: 'keychain',
            'hub-auth': 'session',
            registry: 'hub-auth',
            'docker credential helper': 'session',
            'podman credential helper': 'session',
          },
        },
      );
    });

    it('finds the credential helper missing from PATH', async () => {
      await expectBroken(
        [registry],
        {PATH: stack.env.PATH},
        {
          name: 'docker credential helper',
          alike: ['podman credential helper'],
          detail: 'docker-credential-hub is not on PATH',
          fix: 'npm install -g',
        },
      );
    });

    it('shows a session revoked at the provider, which a refresh cannot revive', async () => {
      const session = await secretServiceSession(stack.keyring.env, registry);
      const provider = await client.discovery(new URL(stack.idp.issuer), stack.idp.clientId, undefined, client.None(), {
        execute: [client.allowInsecureRequests],
      });
      await client.tokenRevocation(provider, session!.refreshToken as string, {token_type_hint: 'refresh_token'});
      await expectBroken(
        [registry],
        {},
        {
          name: 'session',
          detail: `The session for ${registry} can no longer be used: the identity provider refused to refresh it (invalid_grant`,
          fix: `Run \`hub login ${registry}\``,
          skipped: {
            'hub-auth': 'session',
            registry: 'hub-auth',
            'docker credential helper': 'session',
            'podman credential helper': 'session',
          },
        },
      );
      await login();
    });

    it('names hub-auth’s address when it does not answer', async () => {
      // The registry's realm is hub-auth's address as clients see it (here a proxy in front of it).
      await stack.realm.stop();
      await expectBroken(
        [registry],
        {},
        {
          name: 'hub-auth',
          detail: `${stack.realm.url}/token did not answer (ECONNREFUSED)`,
          fix: 'Start hub-auth',
          skipped: {registry: 'hub-auth'},
        },
      );
    });

    // Last: nothing after it needs the registry (hub-auth, stopped above, is never reached without it).
    it('names the registry when it does not answer', async () => {
      await stack.registry.stop();
      await expectBroken(
        [registry],
        {},
        {
          name: 'registry',
          detail: `${registry} did not answer (ECONNREFUSED)`,
          fix: 'Start the registry',
          skipped: {'hub-auth': 'registry'},
        },
      );
    });

    it('never printed a token', () => {
      expect(seenTokens.size).toBeGreaterThan(0);
      for (const {stdout, stderr} of transcript) {
        expect(`${stdout}${stderr}`).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
        for (const token of seenTokens) expect(`${stdout}${stderr}`).not.toContain(token);
      }
    });
  },
);
