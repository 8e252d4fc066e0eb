import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {discoverRealm, registryBaseUrl} from '../../../src/registry/client.js';

let server: Server | undefined;

async function registryAnswering(challenge: string): Promise<string> {
  server = createServer((_req, res) => res.writeHead(401, {'www-authenticate': challenge}).end());
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe('the registry client', () => {
  it('speaks plain HTTP to loopback registries only, as docker does', () => {
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('registry.example.com')).toBe('https://registry.example.com');
  });

  it('follows a registry to its realm', async () => {
    const registry = await registryAnswering('Bearer realm="https://auth.example.com/token",service="reg"');
    expect(await discoverRealm(registry)).toEqual({realm: 'https://auth.example.com/token', service: 'reg'});
  });

  it('refuses a realm that would receive the user’s token over plain HTTP', async () => {
    const registry = await registryAnswering('Bearer realm="http://evil.example.com/token",service="reg"');
    await expect(discoverRealm(registry)).rejects.toMatchObject({code: 'insecure_realm'});
  });

  it('says a registry without token auth is not a hub registry', async () => {
    const registry = await registryAnswering('Basic realm="registry"');
    await expect(discoverRealm(registry)).rejects.toMatchObject({code: 'not_token_auth'});
  });
});
