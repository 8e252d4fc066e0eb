import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {KeychainStore} from '../../src/store/keychain.js';
import type {Session} from '../../src/store/session.js';
import {runHub} from './support/hub-cli.js';
import {secretServiceCount, secretServiceLookup, startKeyring, type Keyring} from './support/keyring.js';
import {assertPrograms, e2eEnabled} from './support/prerequisites.js';
import {createSandbox, type Sandbox} from './support/sandbox.js';

const PROGRAMS = ['dbus-run-session', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool', 'pkill'];

describe.runIf(e2eEnabled(PROGRAMS))('the keychain store on a real Secret Service', () => {
  let sandbox: Sandbox;
  let keyring: Keyring;
  let saved: NodeJS.ProcessEnv;

  beforeAll(async () => {
    assertPrograms(PROGRAMS);
    sandbox = await createSandbox('hub-keychain');
    keyring = await startKeyring(sandbox);
    // The store runs in this process: point it at the sandbox's bus.
    saved = {...process.env};
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
  });

  afterAll(async () => {
    process.env = saved;
    await keyring?.stop();
    await sandbox?.remove();
  });

  const session = (accessToken: string, refreshToken: string): Session => ({
    registry: 'registry.test',
    issuer: 'https://id.example.test',
    clientId: 'hub-cli',
    account: 'alice',
    subject: 'sub-alice',
    accessToken,
    refreshToken,
    expiresAt: 2_000_000_000,
  });

  it('keeps a long JWT pair in parts that each fit a Windows credential, and reads it back', async () => {
    const store = new KeychainStore();
    const long = session(`eyJ${'a'.repeat(4000)}.${'b'.repeat(800)}.${'c'.repeat(342)}`, `eyJ${'r'.repeat(3000)}`);
    await store.write(long);
    expect(await store.read('registry.test')).toEqual(long);
    const head = JSON.parse((await secretServiceLookup(process.env, 'registry.test'))!) as {generation: string; parts: number};
    expect(head.parts).toBeGreaterThan(8);
    for (let i = 0; i < head.parts; i++) {
      const part = (await secretServiceLookup(process.env, `registry.test#${head.generation}.${i}`))!;
      expect(Buffer.byteLength(part, 'utf16le')).toBeLessThanOrEqual(2560);
    }

    // Rewriting leaves only the new generation behind.
    const short = session('access-2', 'refresh-2');
    await store.write(short);
    expect(await store.read('registry.test')).toEqual(short);
    expect(await secretServiceCount(process.env)).toBe(2);

    expect(await store.remove('registry.test')).toBe(true);
    expect(await secretServiceCount(process.env)).toBe(0);
    expect(await store.read('registry.test')).toBeUndefined();
  });

  it('gives up on a Secret Service that does not answer, instead of hanging', async () => {
    const store = new KeychainStore(1000);
    await keyring.freeze(true);
    try {
      const started = Date.now();
      await expect(store.read('registry.test')).rejects.toThrow('did not answer');
      expect(Date.now() - started).toBeLessThan(10_000);

      // The CLI too: a clear error and a non-zero exit, not a hang.
      const result = await runHub(['status'], {...keyring.env, HUB_KEYCHAIN_TIMEOUT_MS: '1000'});
      expect(result.code).toBe(1);
    } finally {
      await keyring.freeze(false);
    }
    expect(await store.read('registry.test')).toBeUndefined();
  });
});
