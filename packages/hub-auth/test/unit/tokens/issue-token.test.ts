import {decodeJwt} from 'jose';
import {describe, expect, it} from 'vitest';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import {issueRegistryToken, type IssueDeps, type SignedToken} from '../../../src/tokens/issue-token.js';
import {generateSigningMaterial} from '../../../src/tokens/keygen.js';
import {createSigner} from '../../../src/tokens/signing.js';
import {createTokenReuse} from '../../../src/tokens/token-reuse.js';
import type {TokenRequest} from '../../../src/tokens/token-request.js';

const NOW = 1_800_000_000;
const material = await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth test', days: 30});
const pull: ResourceScope[] = [{type: 'repository', name: 'alice/app', actions: ['pull']}];

function deps(): IssueDeps {
  return {
    config: {
      issuer: 'hub-auth',
      service: 'hub-registry',
      tokenLifetimeSeconds: 300,
      refreshTokens: {enabled: false, lifetimeSeconds: 3600, revalidateSeconds: 3600},
    },
    signer: createSigner({
      privateKeyPem: material.privateKeyPem,
      certificatePem: material.certificatePem,
      keyIdFormat: 'libtrust',
      includeX5c: true,
    }),
    decide: (_requester, scopes) => scopes,
    tokenReuse: createTokenReuse<SignedToken>({windowSeconds: 0, maxEntries: 1}),
    nowSeconds: () => NOW,
  };
}

const request = (notAfter?: number): TokenRequest => ({
  grant: 'password',
  requester: {account: 'alice', groups: []},
  scopes: pull,
  ...(notAfter === undefined ? {} : {notAfter}),
});

describe('a registry token’s lifetime', () => {
  it('is tokenLifetimeSeconds when the credential lasts longer', () => {
    const {response} = issueRegistryToken(deps(), request(NOW + 3600));
    expect(decodeJwt(response.token).exp).toBe(NOW + 300);
    expect(response.expires_in).toBe(300);
  });

  it('ends with the credential it was traded for', () => {
    const {response} = issueRegistryToken(deps(), request(NOW + 20));
    expect(decodeJwt(response.token).exp).toBe(NOW + 20);
    expect(response.expires_in).toBe(20);
  });

  it('never ends before it is issued: a credential taken within the clock-skew tolerance gets a token that ends now', () => {
    const {response} = issueRegistryToken(deps(), request(NOW - 20));
    const claims = decodeJwt(response.token);
    expect(claims.exp).toBe(NOW);
    expect(claims.exp).toBeGreaterThanOrEqual(claims.iat!);
    expect(response.expires_in).toBe(0);
  });
});
