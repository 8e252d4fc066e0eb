import {mkdtemp, readFile, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {readSettings, removeRegistrySettings, saveRegistrySettings, type RegistrySettings} from '../../../src/config/settings.js';

const alpha: RegistrySettings = {
  issuer: 'https://id.example.com',
  clientId: 'hub',
  scopes: 'openid',
  storage: 'keychain',
  account: 'alice',
};

async function tempFile(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'hub-settings-')), 'nested', 'config.json');
}

describe('settings file', () => {
  it('is created 0600 in a 0700 folder, and keeps other registries on change', async () => {
    const file = await tempFile();
    await saveRegistrySettings(file, 'a.example', alpha);
    await saveRegistrySettings(file, 'b.example', {...alpha, account: 'bob'});
    await removeRegistrySettings(file, 'a.example');
    expect(await readSettings(file)).toEqual({registries: {'b.example': {...alpha, account: 'bob'}}});
    if (process.platform !== 'win32') {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(file, '..'))).mode & 0o777).toBe(0o700);
    }
  });

  it('keeps concurrent writers from losing each other’s entries', async () => {
    const file = await tempFile();
    await Promise.all(Array.from({length: 20}, (_, i) => saveRegistrySettings(file, `r${i}.example`, alpha)));
    expect(Object.keys((await readSettings(file)).registries)).toHaveLength(20);
  });

  it.each([
    ['not JSON', '{"registries": {', /not valid/],
    ['a wrong shape', '{"registries": {"a": {"issuer": "nope"}}}', /registries\.a\.issuer/],
    [
      'an endpoint hub does not know',
      '{"registries": {"a": {"issuer": "https://id.example.com", "clientId": "hub", "scopes": "openid", "storage": "keychain", "endpoints": {"token_endpoint": "https://id.example.com/t"}}}}',
      /registries\.a\.endpoints/,
    ],
    [
      'an endpoint that is not a URL',
      '{"registries": {"a": {"issuer": "https://id.example.com", "clientId": "hub", "scopes": "openid", "storage": "keychain", "endpoints": {"revocation_endpoint": "revoke"}}}}',
      /registries\.a\.endpoints\.revocation_endpoint/,
    ],
  ])('refuses %s, names the file, and leaves it untouched', async (_what, content, message) => {
    const file = await tempFile();
    await saveRegistrySettings(file, 'a.example', alpha);
    await writeFile(file, content);
    await expect(saveRegistrySettings(file, 'b.example', alpha)).rejects.toThrow(message);
    await expect(readSettings(file)).rejects.toThrow(file);
    expect(await readFile(file, 'utf8')).toBe(content);
  });
});
