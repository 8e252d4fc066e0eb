import {describe, expect, it} from 'vitest';
import {combinedMetadata, missingEndpoints} from '../src/authorization-server-metadata.js';

const openid = {
  issuer: 'https://id.example.com/realms/dev',
  token_endpoint: 'https://id.example.com/realms/dev/token',
  userinfo_endpoint: 'https://id.example.com/realms/dev/me',
};

describe('the OpenID document first, RFC 8414 metadata for the endpoints it lacks, settings over both', () => {
  it('takes only missing endpoints from the RFC 8414 document, nothing else', () => {
    const oauth = {
      issuer: 'https://evil.example.com',
      token_endpoint: 'https://evil.example.com/token',
      revocation_endpoint: 'https://id.example.com/realms/dev/revoke',
      jwks_uri: 'https://evil.example.com/jwks',
    };
    expect(combinedMetadata(openid, oauth, undefined)).toEqual({
      ...openid,
      revocation_endpoint: 'https://id.example.com/realms/dev/revoke',
    });
  });

  it('lets configured endpoints win over both documents', () => {
    const overrides = {revocation_endpoint: 'https://id.example.com/custom/revoke', userinfo_endpoint: 'https://id.example.com/custom/me'};
    expect(combinedMetadata(openid, {revocation_endpoint: 'https://id.example.com/other'}, overrides)).toMatchObject(overrides);
  });

  it('asks for the RFC 8414 document only for wanted endpoints neither configured nor in the OpenID document', () => {
    expect(missingEndpoints(openid, undefined, ['revocation_endpoint', 'userinfo_endpoint'])).toEqual(['revocation_endpoint']);
    expect(missingEndpoints(openid, {revocation_endpoint: 'https://x.example.com'}, ['revocation_endpoint'])).toEqual([]);
    expect(missingEndpoints(openid, undefined, [])).toEqual([]);
  });
});
