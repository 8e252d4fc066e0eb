import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {describe, expect, it} from 'vitest';
import {audienceParameters, discoverProvider} from '../../../src/auth/oidc.js';
import {isLoopbackUrl} from '@hub/common/net/loopback';

describe('isLoopbackUrl', () => {
  it.each([
    ['http://127.0.0.1:8080', true],
    ['http://127.8.9.10', true],
    ['http://localhost:3000', true],
    ['http://[::1]:3000', true],
    ['http://127.0.0.1.evil.test', false],
    ['http://10.0.0.1', false],
    ['http://id.example.com', false],
  ])('%s → %s', (url, expected) => {
    expect(isLoopbackUrl(new URL(url))).toBe(expected);
  });
});

describe('discoverProvider', () => {
  it('refuses plain http to anything but loopback, before sending a request', async () => {
    await expect(discoverProvider({issuer: 'http://id.example.com', clientId: 'hub', scopes: 'openid'})).rejects.toMatchObject({
      code: 'invalid_issuer',
      exit: 2,
    });
  });

  /** A discovery document served at ISSUER/.well-known/openid-configuration that names `named(origin)` as its issuer. */
  async function withDocument(named: (origin: string) => string, use: (origin: string) => Promise<void>): Promise<void> {
    const server = createServer((req, res) => {
      const origin = `http://${req.headers.host}`;
      const issuer = named(origin);
      res
        .writeHead(200, {'content-type': 'application/json'})
        .end(
          JSON.stringify({issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`}),
        );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.close();
    }
  }

  it('refuses a document that names another issuer, and names the one it does', async () => {
    await withDocument(
      (origin) => `${origin}/other`,
      async (origin) => {
        const refused = discoverProvider({issuer: `${origin}/realms/dev`, clientId: 'hub', scopes: 'openid'});
        await expect(refused).rejects.toMatchObject({
          code: 'issuer_mismatch',
          message: expect.stringContaining(`names another issuer, ${origin}/other`),
        });
        await expect(refused).rejects.toMatchObject({suggestions: [expect.stringContaining(`--issuer ${origin}/other`)]});
      },
    );
  });

  it('accepts an issuer that differs only in a trailing slash, as the document spells it', async () => {
    await withDocument(
      (origin) => `${origin}/realms/dev/`,
      async (origin) => {
        const config = await discoverProvider({issuer: `${origin}/realms/dev`, clientId: 'hub', scopes: 'openid'});
        expect(config.serverMetadata().issuer).toBe(`${origin}/realms/dev/`);
      },
    );
  });

  it('refuses an issuer that is not a URL', async () => {
    await expect(discoverProvider({issuer: 'id.example.com', clientId: 'hub', scopes: 'openid'})).rejects.toMatchObject({
      code: 'invalid_issuer',
    });
  });
});

describe('audienceParameters', () => {
  it('sends a URL audience as an RFC 8707 resource too, and a plain one only as audience', () => {
    expect(audienceParameters(undefined)).toEqual({});
    expect(audienceParameters('registry')).toEqual({audience: 'registry'});
    expect(audienceParameters('https://registry.example.com')).toEqual({
      audience: 'https://registry.example.com',
      resource: 'https://registry.example.com',
    });
  });
});
