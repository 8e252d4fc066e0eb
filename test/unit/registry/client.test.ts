import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {registryClient} from '../../../src/registry/client.js';
import {chooseRegistry, registryAt, registryBaseUrl} from '../../../src/registry/registry.js';
import {requestIdentityToken} from '../../../src/session/identity-token.js';
import {listenOnLoopback, onPortsPAndP1} from '@hub/test-stack/ports';

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
    expect(await registryAt(registry).realm()).toEqual({realm: 'https://auth.example.com/token', service: 'reg'});
  });

  it('refuses a realm that would receive the user’s token over plain HTTP', async () => {
    const registry = await registryAnswering('Bearer realm="http://evil.example.com/token",service="reg"');
    await expect(registryAt(registry).realm()).rejects.toMatchObject({code: 'insecure_realm'});
  });

  it('says a host whose /v2/ is 404 has no registry API there, rather than to pass --issuer', async () => {
    server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await registryAt(host)
      .realm()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'not_a_registry',
      message: `${host} has no registry API: GET http://${host}/v2/ answered HTTP 404.`,
    });
    expect(JSON.stringify(error)).not.toContain('--issuer');
  });

  it('says "not logged in" (exit 1, not a usage error) when no registry is given and hub knows none', () => {
    let error: unknown;
    try {
      chooseRegistry(undefined, {registries: {}}, {});
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({code: 'not_logged_in', exit: 1, message: 'You are not logged in to any registry.'});
  });

  it('says a registry without token auth is not a hub registry', async () => {
    const registry = await registryAnswering('Basic realm="registry"');
    await expect(registryAt(registry).realm()).rejects.toMatchObject({code: 'not_token_auth'});
  });
});

describe("the registry client's catalog", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const started of servers.splice(0)) await new Promise<void>((resolve) => started.close(() => resolve()));
  });

  /** A loopback server; every Authorization header and every request body it receives is recorded. */
  async function serve(
    handle: (url: string, res: import('node:http').ServerResponse) => void,
    port = 0,
  ): Promise<{origin: string; host: string; authorizations: string[]; bodies: string[]; close(): Promise<void>}> {
    const authorizations: string[] = [];
    const bodies: string[] = [];
    const started = createServer((req, res) => {
      if (req.headers.authorization) authorizations.push(req.headers.authorization);
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (body) bodies.push(body);
        handle(req.url ?? '/', res);
      });
    });
    const host = `127.0.0.1:${await listenOnLoopback(started, port)}`;
    servers.push(started);
    const close = () => new Promise<void>((resolve) => started.close(() => resolve()));
    return {origin: `http://${host}`, host, authorizations, bodies, close};
  }

  /** A registry whose first catalog page links to `next`; later pages come from `/v2/_catalog?last=…`. */
  async function registryLinkingTo(next: (origin: string) => string) {
    const registry = await serve((url, res) => {
      res.setHeader('content-type', 'application/json');
      if (url.includes('last=')) return void res.end(JSON.stringify({repositories: ['alice/second']}));
      res.setHeader('link', `<${next(`http://${res.req.headers.host}`)}>; rel="next"`);
      res.end(JSON.stringify({repositories: ['alice/first']}));
    });
    return {registry, client: registryClient(registryAt(registry.host), {account: 'alice', accessToken: 'oidc-token'})};
  }

  it.each([
    ['a path on the registry', () => '/v2/_catalog?last=alice%2Ffirst&n=1000'],
    ['a relative reference', () => '_catalog?last=alice%2Ffirst&n=1000'],
    ['an absolute URL on the same origin', (origin: string) => `${origin}/v2/_catalog?last=alice%2Ffirst&n=1000`],
  ])('follows a Link to %s', async (_what, next) => {
    const {client} = await registryLinkingTo(next);
    expect(await client.catalog('registry-token')).toEqual(['alice/first', 'alice/second']);
  });

  it.each([
    ['another port', (other: string) => `${other}/v2/_catalog?last=x&n=1000`],
    ['a scheme-relative URL', (other: string) => `//${new URL(other).host}/v2/_catalog?last=x`],
    ['another scheme', () => 'https://127.0.0.1/v2/_catalog?last=x'],
  ])('refuses a Link to %s, and the token never leaves the registry', async (_what, next) => {
    const elsewhere = await serve((_url, res) => res.end('{"repositories":["stolen"]}'));
    const {registry, client} = await registryLinkingTo(() => next(elsewhere.origin));
    await expect(client.catalog('registry-token')).rejects.toMatchObject({
      code: 'foreign_link',
      message: expect.stringContaining('outside'),
    });
    expect(elsewhere.authorizations).toEqual([]);
    expect(registry.authorizations).toEqual(['Bearer registry-token']);
  });

  it("passes on at most a few hundred characters of a refusing realm's message", async () => {
    // The registry is its own realm: /v2/ challenges, /token refuses at length.
    const registry = await serve((url, res) =>
      url === '/v2/'
        ? res.writeHead(401, {'www-authenticate': `Bearer realm="http://${res.req.headers.host}/token",service="hub-registry"`}).end()
        : res.writeHead(403, {'content-type': 'application/json'}).end(JSON.stringify({errors: [{message: 'm'.repeat(16 * 1024)}]})),
    );
    const client = registryClient(registryAt(registry.host), {account: 'alice', accessToken: 'oidc-token'});
    const refused = await client.token(['repository:alice/app:pull']).catch((error: Error) => error);
    expect((refused as Error).message).toMatch(/m{300}… \(16084 more characters cut\)/);
    expect((refused as Error).message.length).toBeLessThan(600);
  });

  it('sends neither the user’s credentials nor the registry token along a redirect to another origin', async () => {
    const elsewhere = await serve((url, res) => res.end(url.startsWith('/token') ? '{"token":"t"}' : '{"repositories":[]}'));
    const registry = await serve((url, res) => {
      if (url === '/v2/') return void res.writeHead(401, {'www-authenticate': `Bearer realm="${registry.origin}/token"`}).end();
      res.writeHead(302, {location: `${elsewhere.origin}${url}`}).end();
    });
    const client = registryClient(registryAt(registry.host), {account: 'alice', accessToken: 'oidc-token'});
    await client.token(['registry:catalog:*']);
    await client.catalog('registry-token');
    expect(registry.authorizations).toEqual([`Basic ${Buffer.from('alice:oidc-token').toString('base64')}`, 'Bearer registry-token']);
    expect(elsewhere.authorizations).toEqual([]);
  });

  it.each([307, 308])('never resends the access token in a form along a %i redirect to another origin', async (status) => {
    const elsewhere = await serve((_url, res) => res.end('{"refresh_token":"x"}'));
    const registry = await serve((url, res) => {
      if (url === '/v2/') return void res.writeHead(401, {'www-authenticate': `Bearer realm="${registry.origin}/token"`}).end();
      res.writeHead(status, {location: `${elsewhere.origin}/token`}).end();
    });
    expect(await requestIdentityToken(registryAt(registry.host), 'oidc-access-token')).toBeUndefined();
    expect(registry.bodies).toHaveLength(1);
    expect(elsewhere.bodies).toEqual([]);
  });

  it('refuses a Link that, glued onto the registry address, would name another port (the string-concatenation attack)', async () => {
    // The registry on port P, the attacker on P1: `http://127.0.0.1:P` + `1/v2/…` is port P1.
    const {atP: registry, atP1: elsewhere} = await onPortsPAndP1(
      (port) => serve((_url, res) => res.end('{"repositories":["stolen"]}'), port),
      (port) =>
        serve((url, res) => {
          if (url.includes('last=')) return void res.end('{"repositories":[]}');
          res.setHeader('link', '<1/v2/_catalog?last=x&n=1000>; rel="next"');
          res.end('{"repositories":["alice/first"]}');
        }, port),
    );
    const client = registryClient(registryAt(registry.host), {account: 'alice', accessToken: 'oidc-token'});
    await client.catalog('registry-token').catch(() => undefined);
    expect(elsewhere.authorizations).toEqual([]);
  });
});
