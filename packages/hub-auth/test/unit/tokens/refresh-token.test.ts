import {randomUUID} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {generateSigningMaterial} from '../../../src/tokens/keygen.js';
import {readRefreshToken, refreshClaims, signedRefreshToken, verificationKeysFromJwks} from '../../../src/tokens/refresh-token.js';
import {createSigner, verificationJwks} from '../../../src/tokens/signing.js';

const NOW = 1_800_000_000;
const material = await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth test', days: 30});
const signer = createSigner({
  privateKeyPem: material.privateKeyPem,
  certificatePem: material.certificatePem,
  keyIdFormat: 'libtrust',
  includeX5c: true,
});
const keys = verificationKeysFromJwks(verificationJwks([material.certificatePem], 'libtrust'));
const expected = {issuer: 'hub-auth', service: 'registry', nowSeconds: NOW};
const contents = {account: 'alice', service: 'registry', sessionId: randomUUID(), tokenId: randomUUID()};
const lifetime = {lifetimeSeconds: 3600, revalidateSeconds: 600};

describe('hub-auth’s identity tokens', () => {
  it('carry the account, the session, their own id and the re-check window, and read back as signed', () => {
    const claims = refreshClaims(contents, 'hub-auth', NOW, lifetime);
    expect(claims).toMatchObject({sub: 'alice', sid: contents.sessionId, jti: contents.tokenId, chk: 600, iat: NOW, exp: NOW + 3600});
    expect(readRefreshToken(signer.sign(claims), keys, expected)).toEqual({...contents, expiresAt: NOW + 3600});
  });

  it('are refused once expired, but still name their session for a revocation', () => {
    const token = signer.sign(refreshClaims(contents, 'hub-auth', NOW - 3601, lifetime));
    expect(readRefreshToken(token, keys, expected)).toBeUndefined();
    expect(signedRefreshToken(token, keys, expected)?.sessionId).toBe(contents.sessionId);
  });

  it('are refused without a session, with ids that are not the store’s, for another service, or tampered with', () => {
    const claims = refreshClaims(contents, 'hub-auth', NOW, lifetime);
    const {sid: _sid, ...sessionless} = claims;
    for (const changed of [sessionless, {...claims, sid: "x' OR 1=1"}, {...claims, jti: 7}, {...claims, svc: 'elsewhere'}]) {
      expect(signedRefreshToken(signer.sign(changed as typeof claims), keys, expected)).toBeUndefined();
    }
    const [header, , signature] = signer.sign(claims).split('.');
    const forged = Buffer.from(JSON.stringify({...claims, sub: 'mallory'})).toString('base64url');
    expect(signedRefreshToken(`${header}.${forged}.${signature}`, keys, expected)).toBeUndefined();
  });
});
