import {describe, expect, it} from 'vitest';
import {audienceParameters, discoverProvider} from '../../src/auth/oidc.js';
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

  it('refuses an issuer that is not a URL', async () => {
    await expect(discoverProvider({issuer: 'id.example.com', clientId: 'hub', scopes: 'openid'})).rejects.toMatchObject({code: 'invalid_issuer'});
  });
});

describe('audienceParameters', () => {
  it('sends a URL audience as an RFC 8707 resource too, and a plain one only as audience', () => {
    expect(audienceParameters(undefined)).toEqual({});
    expect(audienceParameters('registry')).toEqual({audience: 'registry'});
    expect(audienceParameters('https://registry.example.com')).toEqual({audience: 'https://registry.example.com', resource: 'https://registry.example.com'});
  });
});
