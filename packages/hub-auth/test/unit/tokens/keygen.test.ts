import {createPrivateKey, X509Certificate} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {parse} from 'yaml';
import {generateSigningMaterial, registryAuthSnippet} from '../../../src/tokens/keygen.js';

const now = new Date('2030-05-01T12:00:00Z');

/** extnID keyUsage, critical, BIT STRING with only digitalSignature (bit 0) set. */
const CRITICAL_DIGITAL_SIGNATURE_ONLY = Buffer.from('0603551d0f0101ff040403020780', 'hex');

describe('generateSigningMaterial', () => {
  it('writes an EC P-256 PKCS#8 key and a self-signed certificate for it that node:crypto reads', async () => {
    const {privateKeyPem, certificatePem} = await generateSigningMaterial({
      algorithm: 'ES256',
      commonName: 'hub-auth',
      days: 90,
      now,
    });

    expect(privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const privateKey = createPrivateKey(privateKeyPem);
    expect(privateKey.asymmetricKeyType).toBe('ec');
    expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    expect(certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    const certificate = new X509Certificate(certificatePem);
    expect(certificate.checkPrivateKey(privateKey)).toBe(true);
    expect(certificate.subject).toBe('CN=hub-auth');
    expect(certificate.issuer).toBe(certificate.subject);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
  });

  it('writes an RSA 3072 key for RS256', async () => {
    const {privateKeyPem, certificatePem} = await generateSigningMaterial({
      algorithm: 'RS256',
      commonName: 'hub-auth',
      days: 90,
      now,
    });

    const privateKey = createPrivateKey(privateKeyPem);
    expect(privateKey.asymmetricKeyType).toBe('rsa');
    expect(privateKey.asymmetricKeyDetails).toMatchObject({modulusLength: 3072, publicExponent: 65537n});
    const certificate = new X509Certificate(certificatePem);
    expect(certificate.checkPrivateKey(privateKey)).toBe(true);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
  });

  it('backdates the certificate by five minutes and keeps it for the given days', async () => {
    const certificate = new X509Certificate(
      (await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth', days: 2, now})).certificatePem,
    );
    expect(new Date(certificate.validFrom).toISOString()).toBe('2030-05-01T11:55:00.000Z');
    expect(new Date(certificate.validTo).toISOString()).toBe('2030-05-03T12:00:00.000Z');
  });

  it('restricts the key to digital signatures', async () => {
    const certificate = new X509Certificate(
      (await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth', days: 1, now})).certificatePem,
    );
    expect(certificate.raw.includes(CRITICAL_DIGITAL_SIGNATURE_ONLY)).toBe(true);
    expect(certificate.ca).toBe(false);
  });

  it('gives every certificate its own serial number', async () => {
    const serials = await Promise.all(
      [1, 2, 3].map(async () => {
        const {certificatePem} = await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth', days: 1, now});
        return new X509Certificate(certificatePem).serialNumber;
      }),
    );
    expect(new Set(serials).size).toBe(3);
  });

  it('keeps a common name with commas, quotes and backslashes as written', async () => {
    const commonName = 'hub-auth, "registry"=a\\b';
    const {certificatePem} = await generateSigningMaterial({algorithm: 'ES256', commonName, days: 1, now});
    const utf8String = Buffer.concat([Buffer.from([0x0c, Buffer.byteLength(commonName)]), Buffer.from(commonName)]);
    expect(new X509Certificate(certificatePem).raw.includes(utf8String)).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s days', async (days) => {
    await expect(generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth', days})).rejects.toThrow(/whole number of days/);
  });
});

describe('registryAuthSnippet', () => {
  const options = {
    realm: 'https://auth.example.com/token',
    service: 'registry.example.com',
    issuer: 'hub-auth',
    rootCertBundle: '/etc/distribution/hub-auth.crt',
  };

  it('is the auth.token block of config.yml, under a one-line comment', () => {
    const snippet = registryAuthSnippet(options);
    const [comment, ...rest] = snippet.split('\n');
    expect(comment).toMatch(/^# .*registry 2\.x.*3\.x/);
    expect(rest.some((line) => line.startsWith('#'))).toBe(false);
    expect(parse(snippet)).toEqual({
      auth: {
        token: {
          realm: 'https://auth.example.com/token',
          service: 'registry.example.com',
          issuer: 'hub-auth',
          rootcertbundle: '/etc/distribution/hub-auth.crt',
        },
      },
    });
  });

  it('adds jwks for registry 3.x only when given', () => {
    const snippet = registryAuthSnippet({...options, jwks: '/etc/distribution/hub-auth.jwks.json'});
    expect(parse(snippet).auth.token).toMatchObject({
      rootcertbundle: '/etc/distribution/hub-auth.crt',
      jwks: '/etc/distribution/hub-auth.jwks.json',
    });
    expect(parse(registryAuthSnippet(options)).auth.token).not.toHaveProperty('jwks');
  });

  it('quotes values YAML would otherwise misread', () => {
    const tricky = {...options, service: 'registry: "main" # primary', issuer: 'yes'};
    expect(parse(registryAuthSnippet(tricky)).auth.token).toMatchObject({service: tricky.service, issuer: 'yes'});
  });
});
