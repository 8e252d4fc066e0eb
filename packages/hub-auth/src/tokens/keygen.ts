/** What `hub-auth keygen` writes: a token signing key, its certificate, and the registry's `auth:` block. */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import {KeyObject, randomBytes, webcrypto} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {stringify} from 'yaml';
import type {SigningAlgorithm} from './signing.js';

x509.cryptoProvider.set(webcrypto);

export interface SigningMaterialOptions {
  algorithm: SigningAlgorithm;
  commonName: string;
  days: number;
  now?: Date;
}

const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const KEY_ALGORITHMS = {
  ES256: {
    generate: {name: 'ECDSA', namedCurve: 'P-256'},
    certificateSignature: {name: 'ECDSA', hash: 'SHA-256'},
  },
  RS256: {
    generate: {name: 'RSASSA-PKCS1-v1_5', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256'},
    certificateSignature: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'},
  },
} as const;

export async function generateSigningMaterial(options: SigningMaterialOptions): Promise<{privateKeyPem: string; certificatePem: string}> {
  if (!Number.isInteger(options.days) || options.days < 1) {
    throw new Error(`A signing certificate must be valid for a whole number of days, at least 1 (got ${options.days}).`);
  }
  const now = options.now ?? new Date();
  const {generate, certificateSignature} = KEY_ALGORITHMS[options.algorithm];
  const keys = await webcrypto.subtle.generateKey(generate, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex'),
    // x509 reads DN text, and even plain JSON name values, for quotes and backslash escapes; an
    // explicit utf8String is taken as it is.
    name: new x509.Name([{CN: [{utf8String: options.commonName}]}]),
    // Lets a registry whose clock runs a little behind accept the certificate as soon as it is written.
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + options.days * DAY_MS),
    signingAlgorithm: certificateSignature,
    keys,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return {
    privateKeyPem: KeyObject.from(keys.privateKey).export({type: 'pkcs8', format: 'pem'}).toString(),
    // x509 leaves off the final newline; without it, a chain or bundle made by concatenation puts
    // the next BEGIN line on the END line, where Go's PEM decoder does not find it.
    certificatePem: `${certificate.toString('pem')}\n`,
  };
}

export interface RegistryAuthOptions {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
  jwks?: string;
}

/** The `auth:` block of the registry's config.yml; rootCertBundle and jwks are paths as the registry sees them. */
export function registryAuthSnippet(options: RegistryAuthOptions): string {
  const token = {
    realm: options.realm,
    service: options.service,
    issuer: options.issuer,
    rootcertbundle: options.rootCertBundle,
    ...(options.jwks === undefined ? {} : {jwks: options.jwks}),
  };
  const comment = '# rootcertbundle: registry 2.x (kid = libtrust key ID) and 3.x (kid = JWK thumbprint); jwks: registry 3.x only.';
  return `${comment}\n${stringify({auth: {token}})}`;
}
