import {execFile, spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeImage} from '@hub/test-stack/docker-engine';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {SERVICE, TOKEN_ISSUER} from '@hub/test-stack/hub-auth';
import {runHub, transcript} from '@hub/test-stack/hub-cli';
import {USERS} from '@hub/test-stack/identity-provider';
import {removeRegistrySettings} from '../../src/config/settings.js';
import {dockerConfigFile, removeCredentialHelper} from '../../src/docker/config-file.js';
import {secretServiceSession} from '@hub/test-stack/keyring';
import {sampleCommandLines} from '@hub/test-stack/process';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';
import {startRegistry} from '@hub/test-stack/registry';

const [alice] = USERS as [(typeof USERS)[number]];
const HUB = fileURLToPath(new URL('../../bin/run.cjs', import.meta.url));

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('faults: clear messages, nothing lost, retry works', () => {
  let stack: RegistryStack;
  let registry: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startRegistryStack();
    registry = stack.registry.host;
    ({env} = await withHubOnPath(stack.sandbox.dir, stack.env));
    const login = runHub(['login', registry], env);
    await stack.browser.signIn(await stack.browser.nextUrl(), alice);
    expect((await login).code).toBe(0);
    await makeImage(env, stack.sandbox.dir, 'faulty:1', 256 * 1024);
  });

  afterAll(() => stack?.stop());

  function docker(args: string[]): Promise<{code: number; output: string}> {
    return new Promise((resolve) => {
      execFile('docker', args, {env}, (error, stdout, stderr) =>
        resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`}),
      );
    });
  }

  it.each([
    ['down', {kind: 'down'} as const],
    ['answering 500', {kind: 'error', status: 500} as const],
  ])('hub-auth %s during a push: a clear error that says retry (not log in), then the retry works', async (_what, mode) => {
    stack.realm.setMode(mode);
    try {
      const failed = await runHub(['push', 'faulty:1', '-q'], env);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/The push of .* was interrupted/);
      expect(failed.stderr).toContain('retry the same command');
      expect(failed.stderr).not.toContain('hub login');
    } finally {
      stack.realm.setMode({kind: 'pass'});
    }
    const retried = await runHub(['push', 'faulty:1', '-q'], env);
    expect(retried.code, retried.stderr).toBe(0);
  });

  it('hub-auth slow: the push waits and completes', async () => {
    stack.realm.setMode({kind: 'slow', delayMs: 1500});
    try {
      const slow = await runHub(['push', 'faulty:1', '-q'], env);
      expect(slow.code, slow.stderr).toBe(0);
    } finally {
      stack.realm.setMode({kind: 'pass'});
    }
  });

  it('the registry restarted in the middle of a push: a second push completes and the registry holds the whole image', async () => {
    await makeImage(env, stack.sandbox.dir, 'big:1', 96 * 1024 * 1024);
    const first = spawn(process.execPath, [HUB, 'push', 'big:1'], {env, stdio: ['ignore', 'ignore', 'pipe']});
    let progress = '';
    const pushing = new Promise<void>((resolve) =>
      first.stderr.on('data', (chunk) => (progress += chunk) && /Pushing/.test(progress) && resolve()),
    );
    const firstDone = new Promise<number | null>((resolve) => first.once('close', resolve));
    await Promise.race([pushing, firstDone]);
    await stack.registry.stop();
    const restarted = await startRegistry(
      join(stack.sandbox.dir, 'registry'),
      {realm: `${stack.realm.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: stack.signing.certificate},
      Number(registry.split(':')[1]),
    );
    stack.registry.stop = () => restarted.stop();
    await firstDone;
    const second = await runHub(['push', 'big:1', '--json', '-q'], env);
    expect(second.code, second.stderr).toBe(0);
    const {digest} = JSON.parse(second.stdout) as {digest: string};
    expect((await docker(['rmi', `${registry}/alice/big:1`])).code).toBe(0);
    const pulled = await docker(['pull', `${registry}/alice/big:1`]);
    expect(pulled.code, pulled.output).toBe(0);
    expect(pulled.output).toContain(digest);
  });

  it('the keychain gone, then locked, between two commands: a clear error each time, and the session is still there after', async () => {
    const gone = await runHub(['token', registry], {...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(stack.sandbox.dir, 'no-bus')}`});
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('keychain cannot be used');
    await stack.keyring.freeze(true);
    try {
      const locked = await runHub(['token', registry], {...env, HUB_KEYCHAIN_TIMEOUT_MS: '1000'});
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain('keychain cannot be used');
    } finally {
      await stack.keyring.freeze(false);
    }
    expect((await runHub(['token', registry], env)).code).toBe(0);
  });

  it('killed at random points while writing its files and refreshing: every file parses, no session is damaged', async () => {
    const settingsFile = join(stack.sandbox.configDir, 'config.json');
    const dockerDir = stack.sandbox.dockerConfig;
    // hub's own modules, from source (tsx): the bundles export only their entry points.
    const source = new URL('../../src/', import.meta.url).href;
    // Writes hub's settings and docker's config.json over and over, as logins and logouts do.
    const writer = `
      import {saveRegistrySettings} from '${source}config/settings.ts';
      import {addCredentialHelper, removeCredentialHelper} from '${source}docker/config-file.ts';
      const settings = {issuer: 'https://id.example.test', clientId: 'hub', scopes: 'openid', storage: 'keychain', account: 'x'};
      for (let i = 0; ; i++) {
        await saveRegistrySettings(${JSON.stringify(settingsFile)}, 'kill-' + (i % 5) + '.test', settings);
        await addCredentialHelper(dockerConfigFile(${JSON.stringify(dockerDir)}), 'kill-' + (i % 5) + '.test');
        await removeCredentialHelper(dockerConfigFile(${JSON.stringify(dockerDir)}), 'kill-' + ((i + 2) % 5) + '.test');
      }`;
    for (let round = 0; round < 10; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer], {env, stdio: 'ignore'});
      const closed = new Promise((resolve) => child.once('close', resolve));
      await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 500));
      child.kill('SIGKILL');
      await closed;
      const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as {registries: Record<string, unknown>};
      const dockerConfig = JSON.parse(readFileSync(join(dockerDir, 'config.json'), 'utf8')) as {credHelpers: Record<string, string>};
      // The real login's entries are never lost to a write that died half way.
      expect(settings.registries[registry]).toBeDefined();
      expect(dockerConfig.credHelpers[registry]).toBe('hub');
    }
    for (let i = 0; i < 5; i++) {
      await removeRegistrySettings(settingsFile, `kill-${i}.test`);
      await removeCredentialHelper(dockerConfigFile(dockerDir), `kill-${i}.test`);
    }

    stack.idp.behave({accessTokenTtl: 30}); // every `hub token` now refreshes, and the kill lands in refreshes
    let lostToRotation = 0;
    try {
      for (let round = 0; round < 10; round++) {
        const child = spawn(process.execPath, [HUB, 'token', registry], {env, stdio: 'ignore'});
        const closed = new Promise((resolve) => child.once('close', resolve));
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
        child.kill('SIGKILL');
        await closed;
        expect((await secretServiceSession(stack.keyring.env, registry))?.registry).toBe(registry);
        const after = await runHub(['token', registry], env);
        if (after.code === 0) continue;
        // Killed after the provider rotated the refresh token and before the new one was stored.
        expect(after.stderr).toContain('can no longer be used');
        lostToRotation++;
        const login = runHub(['login', registry], env);
        await stack.browser.signIn(await stack.browser.nextUrl(), alice);
        expect((await login).code).toBe(0);
      }
    } finally {
      stack.idp.behave({accessTokenTtl: 600});
    }
    console.log(`SIGKILL: 10 rounds while writing files, 10 while refreshing; sessions lost to refresh-token rotation: ${lostToRotation}`);
    expect(lostToRotation).toBeLessThanOrEqual(2);
  }, 180_000);

  it('no token or secret in the arguments of any process, nor in DEBUG output, raw or encoded', async () => {
    const token = (await runHub(['token', registry], env)).stdout.trim();
    const sampler = sampleCommandLines();
    // node's own sections that print no headers are allowed, and scanned too.
    const debugEnv = {...env, DEBUG: '*', NODE_DEBUG: 'net,tls'};
    const pushed = await runHub(['push', 'faulty:1', '--registry', registry], debugEnv);
    await docker(['rmi', `${registry}/alice/faulty:1`]);
    const pulled = await docker(['pull', `${registry}/alice/faulty:1`]);
    await docker(['rmi', `${registry}/alice/faulty:1`]);
    const hubPulled = await runHub(['pull', 'faulty:1', '--registry', registry], debugEnv);
    const listed = await runHub(['images', '--registry', registry], debugEnv);
    const status = await runHub(['status', '--json'], debugEnv);
    const commandLines = await sampler.stop();
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pulled.code).toBe(0);
    expect(hubPulled.code, hubPulled.stderr).toBe(0);
    expect(listed.code, listed.stderr).toBe(0);
    expect(commandLines.filter((line) => line.includes(token.slice(20, 60)) || line.includes(stack.idp.clientId + '-secret'))).toEqual([]);
    // DEBUG=* did print something (oclif's own namespaces at least): the check below reads real debug output.
    expect(pushed.stderr).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \S+ /m);

    const session = (await secretServiceSession(stack.keyring.env, registry)) as {
      accessToken: string;
      refreshToken?: string;
      identityToken?: {token: string};
    };
    expect(session.identityToken?.token).toBeTruthy();
    const secrets = [token, session.accessToken, session.refreshToken, session.identityToken?.token].filter((secret): secret is string =>
      Boolean(secret),
    );
    // The scan would see a token inside an X-Registry-Auth header, as docker-modem's debug output prints one.
    const header = Buffer.from(JSON.stringify({username: 'alice', password: token})).toString('base64url');
    expect(leaksIn(`headers: { 'X-Registry-Auth': '${header}' }`, secrets)).not.toEqual([]);
    for (const output of [pushed, hubPulled, listed, status]) expect(leaksIn(`${output.stdout}\n${output.stderr}`, secrets)).toEqual([]);
    // stdout of `hub token` is the token: every other run in this file is read from its stderr.
    for (const {stderr} of transcript) expect(leaksIn(stderr, secrets)).toEqual([]);
  });

  it("hub push and hub pull refuse to run under NODE_DEBUG=http, which would print the engine requests' headers", async () => {
    for (const [args, nodeDebug] of [
      [['push', 'faulty:1', '--registry', registry], 'http'],
      [['pull', 'faulty:1', '--registry', registry], 'net,http*'],
    ] as const) {
      const run = await runHub([...args], {...env, NODE_DEBUG: nodeDebug});
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`NODE_DEBUG=${nodeDebug} turns on node's http`);
      expect(run.stderr).toContain('without NODE_DEBUG');
      expect(run.stderr).not.toMatch(/X-Registry-Auth/i);
    }
  });
});

const JWT = /eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/;

/**
 * Where `text` gives a secret away: as it is, as any JWT (registry tokens and hub-auth's refresh
 * tokens are JWTs hub never sees), or inside anything base64 or base64url encoded, such as the
 * value of an X-Registry-Auth or Authorization header, decoded as far as two levels deep.
 */
function leaksIn(text: string, secrets: string[], depth = 0): string[] {
  const found = secrets.filter((secret) => text.includes(secret)).map((secret) => `token ${secret.slice(0, 12)}…`);
  const jwt = JWT.exec(text);
  if (jwt) found.push(`JWT ${jwt[0].slice(0, 24)}…`);
  if (depth === 2) return found;
  const headerValues = [...text.matchAll(/(?:x-registry-auth|authorization)['"]?\s*[:=]\s*['"]?(?:basic |bearer )?([^'"\s,}]+)/gi)].map(
    (match) => match[1]!,
  );
  const encoded = [...(text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []), ...headerValues];
  for (const chunk of encoded) {
    // Node's base64 decoder takes both alphabets, padded or not; the chunk may start mid-quantum.
    for (const decoded of new Set([0, 1, 2, 3].map((skip) => Buffer.from(chunk.slice(skip), 'base64').toString('latin1')))) {
      found.push(...leaksIn(decoded, secrets, depth + 1).map((leak) => `${leak} in ${chunk.slice(0, 24)}…`));
    }
  }
  return found;
}
