import {execFileSync} from 'node:child_process';
import {createPublicKey, generateKeyPairSync, verify, X509Certificate} from 'node:crypto';
import {calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, importJWK, jwtVerify} from 'jose';
import {describe, expect, it} from 'vitest';
import {generateSigningMaterial} from '../../../src/tokens/keygen.js';
import {createSigner, jwkThumbprint, libtrustKeyId, verificationJwks, type SigningAlgorithm} from '../../../src/tokens/signing.js';

const material = {
  ES256: await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth test ES256', days: 30}),
  RS256: await generateSigningMaterial({algorithm: 'RS256', commonName: 'hub-auth test RS256', days: 30}),
};
const otherEs256 = await generateSigningMaterial({algorithm: 'ES256', commonName: 'another key', days: 30});
const algorithms: SigningAlgorithm[] = ['ES256', 'RS256'];

const claims = {
  iss: 'hub-auth',
  sub: 'alice',
  aud: 'registry.example.com',
  exp: Math.floor(Date.now() / 1000) + 300,
  access: [{type: 'repository', name: 'team/app', actions: ['pull', 'push']}],
};

/** A P-256 key made with `openssl genpkey`, so its key ID can be computed outside this code. */
const FIXED_EC_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7QgVHbmvQu9VegLl
uDRX8vSy5QpVsjcZ+r1BxrF74guhRANCAATULI9VD9s4n5Ltw5XjkTjfJuUYvuYT
Yc5GWrYO5cXoiaydxh0qkKhsOIgNEbrHNlhW34oLhfiFuqZyFT1X6AC8
-----END PRIVATE KEY-----
`;
/**
 * `openssl pkey -in key.pem -pubout -outform DER | openssl dgst -sha256 -binary | head -c 30 | base32`,
 * grouped by hand.
 */
const FIXED_EC_LIBTRUST_ID = 'J3LB:JZEM:DTH5:SEQW:Z3BM:PKK4:26MZ:OTKU:PNOI:3X2V:IHIC:GZWS';

const LIBTRUST_ID_SHAPE = /^[A-Z2-7]{4}(?::[A-Z2-7]{4}){11}$/;

function haveCommands(...commands: string[]): boolean {
  try {
    for (const command of commands) execFileSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'});
    return true;
  } catch {
    return false;
  }
}

function leafOf(certificatePem: string): X509Certificate {
  return new X509Certificate(certificatePem);
}

describe('createSigner', () => {
  it.each(algorithms)('signs %s tokens that verify against the published JWK', async (alg) => {
    const signer = createSigner({...material[alg], keyIdFormat: 'libtrust', includeX5c: false});
    expect(signer.alg).toBe(alg);

    const token = signer.sign(claims);
    const {payload, protectedHeader} = await jwtVerify(token, await importJWK(signer.publicJwk, alg), {
      algorithms: [alg],
    });
    expect(payload).toEqual(claims);
    expect(protectedHeader).toEqual({typ: 'JWT', alg, kid: signer.kid});
  });

  it.each(algorithms)('signs %s tokens that verify with node:crypto against the certificate key', (alg) => {
    const signer = createSigner({...material[alg], keyIdFormat: 'thumbprint', includeX5c: false});
    const [header, payload, signature] = signer.sign(claims).split('.') as [string, string, string];
    const valid = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      {key: leafOf(material[alg].certificatePem).publicKey, dsaEncoding: 'ieee-p1363'},
      Buffer.from(signature, 'base64url'),
    );
    expect(valid).toBe(true);
  });

  it.each(algorithms)('publishes a %s JWKS whose kid selects the signing key', async (alg) => {
    for (const keyIdFormat of ['libtrust', 'thumbprint'] as const) {
      const signer = createSigner({...material[alg], keyIdFormat, includeX5c: false});
      const others = alg === 'ES256' ? material.RS256 : material.ES256;
      const jwks = createLocalJWKSet(verificationJwks([others.certificatePem, material[alg].certificatePem], keyIdFormat));
      await expect(jwtVerify(signer.sign(claims), jwks)).resolves.toMatchObject({payload: claims});
    }
  });

  it('uses the libtrust key ID or the JWK thumbprint as kid, as configured', async () => {
    const publicKey = leafOf(material.ES256.certificatePem).publicKey;
    const libtrust = createSigner({...material.ES256, keyIdFormat: 'libtrust', includeX5c: false});
    const thumbprint = createSigner({...material.ES256, keyIdFormat: 'thumbprint', includeX5c: false});

    expect(libtrust.kid).toBe(libtrustKeyId(publicKey));
    expect(libtrust.kid).toMatch(LIBTRUST_ID_SHAPE);
    expect(thumbprint.kid).toBe(await calculateJwkThumbprint(publicKey.export({format: 'jwk'})));
    expect(decodeProtectedHeader(thumbprint.sign(claims)).kid).toBe(thumbprint.kid);
  });

  it('puts x5c in the header only when asked, as the base64 DER of each certificate of the chain', () => {
    const leafPem = material.ES256.certificatePem;
    const issuerPem = material.RS256.certificatePem;
    const options = {...material.ES256, certificatePem: `${leafPem}\n${issuerPem}`, keyIdFormat: 'libtrust' as const};

    const withX5c = createSigner({...options, includeX5c: true});
    const header = decodeProtectedHeader(withX5c.sign(claims));
    expect(Object.keys(header)).toEqual(['typ', 'alg', 'kid', 'x5c']);
    expect(header.x5c).toEqual([leafOf(leafPem).raw.toString('base64'), leafOf(issuerPem).raw.toString('base64')]);

    const withoutX5c = createSigner({...options, includeX5c: false});
    expect(decodeProtectedHeader(withoutX5c.sign(claims))).toEqual({typ: 'JWT', alg: 'ES256', kid: withoutX5c.kid});
  });

  it('keeps the header fixed while the payload changes', () => {
    const signer = createSigner({...material.ES256, keyIdFormat: 'libtrust', includeX5c: true});
    const first = signer.sign({sub: 'alice'}).split('.');
    const second = signer.sign({sub: 'bob'}).split('.');
    expect(first[0]).toBe(second[0]);
    expect(first[1]).not.toBe(second[1]);
  });

  it('publishes the public half only', () => {
    const {publicJwk} = createSigner({...material.RS256, keyIdFormat: 'libtrust', includeX5c: false});
    expect(publicJwk).toMatchObject({kty: 'RSA', alg: 'RS256', use: 'sig'});
    expect(Object.keys(publicJwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it('refuses a certificate that is for another key', () => {
    expect(() =>
      createSigner({
        privateKeyPem: material.ES256.privateKeyPem,
        certificatePem: otherEs256.certificatePem,
        keyIdFormat: 'libtrust',
        includeX5c: false,
      }),
    ).toThrow(/different key/);
  });

  it('refuses an expired certificate, naming its dates', async () => {
    const expired = await generateSigningMaterial({
      algorithm: 'ES256',
      commonName: 'expired',
      days: 1,
      now: new Date('2020-01-01T00:00:00Z'),
    });
    expect(() => createSigner({...expired, keyIdFormat: 'libtrust', includeX5c: false})).toThrow(
      /valid from 2019-12-31T23:55:00\.000Z to 2020-01-02T00:00:00\.000Z, not now/,
    );
  });

  it('refuses a certificate that is not valid yet', async () => {
    const future = await generateSigningMaterial({
      algorithm: 'ES256',
      commonName: 'future',
      days: 1,
      now: new Date(Date.now() + 30 * 24 * 3600 * 1000),
    });
    expect(() => createSigner({...future, keyIdFormat: 'libtrust', includeX5c: false})).toThrow(/not now/);
  });

  it.each([
    ['a P-384 key', () => generateKeyPairSync('ec', {namedCurve: 'P-384'}), /curve secp384r1; only P-256/],
    ['a 1024-bit RSA key', () => generateKeyPairSync('rsa', {modulusLength: 1024}), /1024-bit RSA key; RS256 needs at least 2048/],
    ['an Ed25519 key', () => generateKeyPairSync('ed25519'), /of type ed25519/],
  ])('refuses %s', (_name, generate, message) => {
    const privateKeyPem = generate().privateKey.export({type: 'pkcs8', format: 'pem'}).toString();
    expect(() =>
      createSigner({privateKeyPem, certificatePem: material.ES256.certificatePem, keyIdFormat: 'libtrust', includeX5c: false}),
    ).toThrow(message);
  });

  it('refuses certificate text without a certificate', () => {
    expect(() =>
      createSigner({...material.ES256, certificatePem: material.ES256.privateKeyPem, keyIdFormat: 'libtrust', includeX5c: false}),
    ).toThrow(/no PEM certificate/);
  });
});

describe('libtrustKeyId', () => {
  it('matches the key ID computed with openssl and base32 for a fixed key', () => {
    expect(libtrustKeyId(createPublicKey(FIXED_EC_KEY))).toBe(FIXED_EC_LIBTRUST_ID);
  });

  it('is 12 groups of 4 base32 characters, and the same every time', () => {
    const publicKey = leafOf(material.RS256.certificatePem).publicKey;
    expect(libtrustKeyId(publicKey)).toMatch(LIBTRUST_ID_SHAPE);
    expect(libtrustKeyId(publicKey)).toBe(libtrustKeyId(createPublicKey(material.RS256.privateKeyPem)));
  });

  it.skipIf(!haveCommands('openssl', 'base32', 'head'))('agrees with openssl for a fresh RSA key', () => {
    const publicPem = createPublicKey(material.RS256.privateKeyPem).export({type: 'spki', format: 'pem'});
    const base32 = execFileSync('sh', ['-c', 'openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | head -c 30 | base32 -w0'], {
      input: publicPem,
    }).toString();
    expect(libtrustKeyId(createPublicKey(material.RS256.privateKeyPem))).toBe(base32.match(/.{4}/g)!.join(':'));
  });
});

describe('jwkThumbprint', () => {
  it('matches the example of RFC 7638 section 3.1', () => {
    const publicKey = createPublicKey({
      format: 'jwk',
      key: {
        kty: 'RSA',
        e: 'AQAB',
        n:
          '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs' +
          'tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5ha' +
          'jrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      },
    });
    expect(jwkThumbprint(publicKey)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it.each(algorithms)('agrees with jose for a %s key', async (alg) => {
    const publicKey = leafOf(material[alg].certificatePem).publicKey;
    expect(jwkThumbprint(publicKey)).toBe(await calculateJwkThumbprint(publicKey.export({format: 'jwk'})));
  });
});

describe('verificationJwks', () => {
  it('publishes one signature key per certificate, leaf of each text', () => {
    const {keys} = verificationJwks(
      [material.ES256.certificatePem, `${material.RS256.certificatePem}${material.ES256.certificatePem}`],
      'thumbprint',
    );
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatchObject({kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig'});
    expect(keys[1]).toMatchObject({kty: 'RSA', alg: 'RS256', use: 'sig'});
    expect(keys[1]!.kid).toBe(jwkThumbprint(leafOf(material.RS256.certificatePem).publicKey));
    expect(keys.every((key) => !('d' in key))).toBe(true);
  });
});
