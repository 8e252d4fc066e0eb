import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {DEFAULT_KEYCHAIN_TIMEOUT_MS, KeychainStore, WINDOWS_PART_LENGTH} from '../../src/store/keychain.js';
import type {Session} from '../../src/store/session.js';
import {runHub} from '@hub/test-stack/hub-cli';
import {secretServiceCount, secretServiceLookup, startKeyring, type Keyring} from '@hub/test-stack/keyring';
import {assertPrograms, e2eEnabled} from '@hub/test-stack/prerequisites';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

const PROGRAMS = ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool'];

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

  const long = session(`eyJ${'a'.repeat(4000)}.${'b'.repeat(800)}.${'c'.repeat(342)}`, `eyJ${'r'.repeat(3000)}`);

  it('keeps a session whole in one Secret Service item: one call reads it', async () => {
    const store = new KeychainStore();
    await store.write(long);
    expect(await store.read('registry.test', 'alice')).toEqual(long);
    expect(JSON.parse((await secretServiceLookup(process.env, 'alice@registry.test'))!)).toEqual(long);
    expect(await secretServiceCount(process.env)).toBe(1);

    expect(await store.remove('registry.test', 'alice')).toBe(true);
    expect(await secretServiceCount(process.env)).toBe(0);
    expect(await store.read('registry.test', 'alice')).toBeUndefined();
  });

  it('keeps a long JWT pair in parts that each fit a Windows credential, and reads it back', async () => {
    const windowsLike = new KeychainStore(DEFAULT_KEYCHAIN_TIMEOUT_MS, WINDOWS_PART_LENGTH);
    await windowsLike.write(long);
    expect(await windowsLike.read('registry.test', 'alice')).toEqual(long);
    const head = JSON.parse((await secretServiceLookup(process.env, 'alice@registry.test'))!) as {generation: string; parts: number};
    expect(head.parts).toBeGreaterThan(8);
    for (let i = 0; i < head.parts; i++) {
      const part = (await secretServiceLookup(process.env, `alice@registry.test#${head.generation}.${i}`))!;
      expect(Buffer.byteLength(part, 'utf16le')).toBeLessThanOrEqual(2560);
    }

    // Rewriting leaves only the new generation behind.
    const next = session(`eyJ${'n'.repeat(2500)}`, 'refresh-2');
    await windowsLike.write(next);
    expect(await windowsLike.read('registry.test', 'alice')).toEqual(next);
    expect(await secretServiceCount(process.env)).toBe(1 + Math.ceil(JSON.stringify(next).length / WINDOWS_PART_LENGTH));

    // A session in parts (as an older hub wrote it) is read, and replaced whole by the next write.
    const store = new KeychainStore();
    expect(await store.read('registry.test', 'alice')).toEqual(next);
    const short = session('access-3', 'refresh-3');
    await store.write(short);
    expect(await store.read('registry.test', 'alice')).toEqual(short);
    expect(await secretServiceCount(process.env)).toBe(1);

    expect(await store.remove('registry.test', 'alice')).toBe(true);
    expect(await secretServiceCount(process.env)).toBe(0);
  });

  it('gives up on a Secret Service that does not answer, instead of hanging', async () => {
    const store = new KeychainStore(1000);
    await keyring.freeze(true);
    try {
      const started = Date.now();
      await expect(store.read('registry.test', 'alice')).rejects.toThrow('did not answer');
      expect(Date.now() - started).toBeLessThan(10_000);

      // The CLI too: a clear error and a non-zero exit, not a hang.
      const result = await runHub(['status'], {...keyring.env, HUB_KEYCHAIN_TIMEOUT_MS: '1000'});
      expect(result.code).toBe(1);
    } finally {
      await keyring.freeze(false);
    }
    expect(await store.read('registry.test', 'alice')).toBeUndefined();
  });
});
