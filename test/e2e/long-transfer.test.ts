import {execFile} from 'node:child_process';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeLayeredImage} from '@hub/test-stack/docker-engine';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {runHub} from '@hub/test-stack/hub-cli';
import {USERS} from '@hub/test-stack/identity-provider';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';

const [alice] = USERS as [(typeof USERS)[number]];

/**
 * The long push of the daily-use issue: access tokens good for 10 s (hub-auth allowing no clock
 * skew), registry tokens for 30 s (the engine keeps one for at least 60 s), and the registry behind
 * a 128 kB/s link. Each big layer takes about 70 s on it, so the engine needs a new registry token
 * long after the access token it started with has expired: the layer's closing PUT of a push, the
 * fourth layer of a pull (the test stack's engine fetches three at a time for each pull). hub-auth
 * re-checks sessions within a minute (refreshTokens.revalidateSeconds, its minimum), so the
 * transfers also outlast that window: hub keeps the engine's session re-checked while they run.
 */
const ACCESS_TOKEN_SECONDS = 10;
const LINK_BYTES_PER_SECOND = 128 * 1024;
const LAYERS = [9, 9, 9, 0.25].map((mebibytes) => Math.round(mebibytes * 1024 * 1024));
const TRANSFER_TIMEOUT_MS = 300_000;
const RECHECK_WINDOW_SECONDS = 60;

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))(
  'a push and a pull that outlast the access token many times over',
  () => {
    let stack: RegistryStack;
    let registry: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      stack = await startRegistryStack({
        registryBytesPerSecond: LINK_BYTES_PER_SECOND,
        hubAuth: {tokenLifetimeSeconds: 30, oidc: {clockSkewSeconds: 0}, refreshTokens: {revalidateSeconds: RECHECK_WINDOW_SECONDS}},
      });
      registry = stack.registry.host;
      ({env} = await withHubOnPath(stack.sandbox.dir, stack.env));
      stack.idp.behave({accessTokenTtl: ACCESS_TOKEN_SECONDS});
      const login = runHub(['login', registry], env);
      await stack.browser.signIn(await stack.browser.nextUrl(), alice);
      expect((await login).code).toBe(0);
      await makeLayeredImage(env, stack.sandbox.dir, 'long-hub:1', LAYERS);
      await makeLayeredImage(env, stack.sandbox.dir, `${registry}/alice/long-docker:1`, LAYERS);
    }, 120_000);

    afterAll(() => stack?.stop());

    function docker(args: string[]): Promise<{code: number; output: string}> {
      return new Promise((resolve) => {
        execFile('docker', args, {env, timeout: TRANSFER_TIMEOUT_MS}, (error, stdout, stderr) =>
          resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`}),
        );
      });
    }

    /** Registry tokens hub-auth traded for docker's identity token (grant_type=refresh_token). */
    async function identityTokenTrades(): Promise<number> {
      const text = await (await fetch(`${stack.hubAuth.monitoringUrl}/metrics`)).text();
      return Number(/^hub_auth_token_requests_total\{grant="refresh_token",outcome="issued"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    }

    /** Both at once, each on its own connections through the slow link: the test takes one transfer's time. */
    async function hubAndDocker(hubArgs: string[], dockerArgs: string[]) {
      const tradesBefore = await identityTokenTrades();
      const started = Date.now();
      const [hub, plain] = await Promise.all([runHub(hubArgs, env, {timeoutMs: TRANSFER_TIMEOUT_MS}), docker(dockerArgs)]);
      return {hub, plain, seconds: (Date.now() - started) / 1000, trades: (await identityTokenTrades()) - tradesBefore};
    }

    /**
     * Both succeeded, and the scenario held: the link's delays are lower bounds, so the transfers
     * outlasted the access token several times over, and the engine got registry tokens with the
     * identity token on the way.
     */
    function expectBothOutlastedTheToken({hub, plain, seconds, trades}: Awaited<ReturnType<typeof hubAndDocker>>, hubSaid: string): void {
      expect(hub.code, hub.stderr).toBe(0);
      expect(hub.stderr).toContain(hubSaid);
      expect(plain.code, plain.output).toBe(0);
      expect(seconds).toBeGreaterThan(Math.max(5 * ACCESS_TOKEN_SECONDS, RECHECK_WINDOW_SECONDS));
      expect(trades).toBeGreaterThanOrEqual(2);
    }

    it(
      'hub push and plain docker push (through docker-credential-hub) both succeed',
      async () => {
        const both = await hubAndDocker(['push', 'long-hub:1', '-q'], ['push', `${registry}/alice/long-docker:1`]);
        expectBothOutlastedTheToken(both, `✓ Pushed ${registry}/alice/long-hub:1`);
      },
      TRANSFER_TIMEOUT_MS,
    );

    it(
      'hub pull and plain docker pull both succeed',
      async () => {
        expect((await docker(['rmi', `${registry}/alice/long-hub:1`, 'long-hub:1', `${registry}/alice/long-docker:1`])).code).toBe(0);
        const both = await hubAndDocker(['pull', 'long-hub:1', '-q'], ['pull', `${registry}/alice/long-docker:1`]);
        expectBothOutlastedTheToken(both, `✓ Pulled ${registry}/alice/long-hub:1`);
      },
      TRANSFER_TIMEOUT_MS,
    );
  },
);
