import {execFile, spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeImage} from './support/docker-engine.js';
import {withHubOnPath} from './support/hub-bins.js';
import {SERVICE, TOKEN_ISSUER} from './support/hub-auth.js';
import {runHub, transcript} from './support/hub-cli.js';
import {USERS} from './support/identity-provider.js';
import {removeRegistrySettings} from '../../src/config/settings.js';
import {removeCredentialHelper} from '../../src/docker/config-file.js';
import {secretServiceSession} from './support/keyring.js';
import {sampleCommandLines} from './support/process.js';
import {E2E_PROGRAMS, e2eEnabled} from './support/prerequisites.js';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from './support/registry-stack.js';
import {startRegistry} from './support/registry.js';

const [alice] = USERS as [typeof USERS[number]];
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
      execFile('docker', args, {env}, (error, stdout, stderr) => resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`}));
    });
  }

  it.each([
    ['down', {kind: 'down'} as const],
    ['answering 500', {kind: 'error', status: 500} as const],
  ])('hub-auth %s during a push: a clear error, then the retry works', async (_what, mode) => {
    stack.realm.setMode(mode);
    try {
      const failed = await runHub(['push', 'faulty:1', '-q'], env);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/The (push of .* failed|registry did not accept)/);
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
    const pushing = new Promise<void>((resolve) => first.stderr.on('data', (chunk) => (progress += chunk) && /Pushing/.test(progress) && resolve()));
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
    const dist = new URL('../../dist/', import.meta.url).href;
    // Writes hub's settings and docker's config.json over and over, as logins and logouts do.
    const writer = `
      import {saveRegistrySettings} from '${dist}config/settings.js';
      import {addCredentialHelper, removeCredentialHelper} from '${dist}docker/config-file.js';
      const settings = {issuer: 'https://id.example.test', clientId: 'hub', scopes: 'openid', storage: 'keychain', account: 'x'};
      for (let i = 0; ; i++) {
        await saveRegistrySettings(${JSON.stringify(settingsFile)}, 'kill-' + (i % 5) + '.test', settings);
        await addCredentialHelper(${JSON.stringify(dockerDir)}, 'kill-' + (i % 5) + '.test');
        await removeCredentialHelper(${JSON.stringify(dockerDir)}, 'kill-' + ((i + 2) % 5) + '.test');
      }`;
    for (let round = 0; round < 10; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', writer], {env, stdio: 'ignore'});
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
      await removeCredentialHelper(dockerDir, `kill-${i}.test`);
    }

    stack.idp.setAccessTokenTtl(30); // every `hub token` now refreshes, and the kill lands in refreshes
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
      stack.idp.setAccessTokenTtl(600);
    }
    console.log(`SIGKILL: 10 rounds while writing files, 10 while refreshing; sessions lost to refresh-token rotation: ${lostToRotation}`);
    expect(lostToRotation).toBeLessThanOrEqual(2);
  }, 180_000);

  it('no token or secret in the arguments of any process, nor in DEBUG output', async () => {
    const token = (await runHub(['token', registry], env)).stdout.trim();
    const sampler = sampleCommandLines();
    const debugEnv = {...env, DEBUG: '*'};
    const pushed = await runHub(['push', 'faulty:1', '--registry', registry], debugEnv);
    await docker(['rmi', `${registry}/alice/faulty:1`]);
    const pulled = await docker(['pull', `${registry}/alice/faulty:1`]);
    const status = await runHub(['status', '--json'], debugEnv);
    const commandLines = await sampler.stop();
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pulled.code).toBe(0);
    expect(commandLines.filter((line) => line.includes(token.slice(20, 60)) || line.includes(stack.idp.clientId + '-secret'))).toEqual([]);
    for (const output of [pushed.stdout, pushed.stderr, status.stdout, status.stderr]) expect(output).not.toContain(token);
    for (const {stderr} of transcript) expect(stderr).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/);
  });
});
