import {describe, expect, it} from 'vitest';
import {mergeMetadata, metadataUrls} from '../../../src/oidc/provider-metadata.js';

describe("the provider's metadata", () => {
  it('reads both documents, the RFC 8414 one with its well-known path inserted before the issuer’s path (§3)', () => {
    expect(metadataUrls('https://id.example/api/oidc')).toEqual({
      openid: 'https://id.example/api/oidc/.well-known/openid-configuration',
      oauth: 'https://id.example/.well-known/oauth-authorization-server/api/oidc',
    });
    expect(metadataUrls('https://id.example/')).toEqual({
      openid: 'https://id.example/.well-known/openid-configuration',
      oauth: 'https://id.example/.well-known/oauth-authorization-server',
    });
  });

  it('takes an endpoint from the RFC 8414 document when OpenID discovery leaves it out, the OpenID one where both name it', () => {
    const openid = {issuer: 'https://id.example', jwks_uri: 'https://id.example/jwks', userinfo_endpoint: 'https://id.example/me'};
    const oauth = {
      issuer: 'https://id.example',
      jwks_uri: 'https://id.example/other-jwks',
      introspection_endpoint: 'https://id.example/introspect',
    };
    expect(mergeMetadata([openid, oauth], {})).toEqual({
      issuer: 'https://id.example',
      jwks_uri: 'https://id.example/jwks',
      userinfo_endpoint: 'https://id.example/me',
      introspection_endpoint: 'https://id.example/introspect',
    });
    expect(mergeMetadata([undefined, oauth], {}).introspection_endpoint).toBe('https://id.example/introspect');
  });

  it("puts the operator's endpoints over what either document says", () => {
    const openid = {
      issuer: 'https://id.example',
      jwks_uri: 'https://id.example/jwks',
      introspection_endpoint: 'https://id.example/introspect',
    };
    expect(
      mergeMetadata([openid, undefined], {
        jwks: 'https://keys.example/jwks',
        introspection: 'https://id.example/v2/introspect',
        userinfo: 'https://id.example/v2/me',
      }),
    ).toMatchObject({
      jwks_uri: 'https://keys.example/jwks',
      introspection_endpoint: 'https://id.example/v2/introspect',
      userinfo_endpoint: 'https://id.example/v2/me',
    });
  });
});
