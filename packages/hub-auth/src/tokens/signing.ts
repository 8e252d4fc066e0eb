/**
 * Signs the bearer tokens the registry accepts (distribution docs/spec/auth/jwt.md). Signing goes
 * through node:crypto rather than jose: jose signs via WebCrypto, which costs about six times as
 * much per token, and every `docker pull` asks for one.
 */
import {createHash, createPrivateKey, sign, X509Certificate, type JsonWebKey, type KeyObject, type SignKeyObjectInput} from 'node:crypto';

export type SigningAlgorithm = 'ES256' | 'RS256';

/**
 * How `kid` names the key. Registry 2.x looks a kid up by its libtrust key ID; registry 3.x by its
 * RFC 7638 thumbprint (or by whatever kid the jwks file gives the key).
 */
export type KeyIdFormat = 'libtrust' | 'thumbprint';

export interface SignerOptions {
  privateKeyPem: string;
  /** The leaf certificate first; further PEM certificates in the same text form the chain. */
  certificatePem: string;
  keyIdFormat: KeyIdFormat;
  includeX5c: boolean;
}

export type PublishedJwk = JsonWebKey & {kid: string; alg: string; use: 'sig'};

export interface RegistryTokenSigner {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  sign(claims: Record<string, unknown>): string;
  readonly publicJwk: PublishedJwk;
}

const MIN_RSA_BITS = 2048;

export function createSigner(options: SignerOptions): RegistryTokenSigner {
  const privateKey = readPrivateKey(options.privateKeyPem);
  const alg = signingAlgorithmFor(privateKey);
  const chain = readCertificateChain(options.certificatePem);
  const leaf = chain[0]!;
  assertCertificateHoldsKey(leaf, privateKey);
  assertCurrentlyValid(leaf, new Date());

  const kid = keyId(leaf.publicKey, options.keyIdFormat);
  const header = {
    typ: 'JWT',
    alg,
    kid,
    ...(options.includeX5c ? {x5c: chain.map((certificate) => certificate.raw.toString('base64'))} : {}),
  };
  const encodedHeader = base64url(JSON.stringify(header));
  // Without an explicit encoding node emits DER-encoded ECDSA signatures; JWS wants r || s.
  const signingKey: SignKeyObjectInput = alg === 'ES256' ? {key: privateKey, dsaEncoding: 'ieee-p1363'} : {key: privateKey};

  return {
    alg,
    kid,
    publicJwk: {...leaf.publicKey.export({format: 'jwk'}), kid, alg, use: 'sig'},
    sign(claims) {
      const signingInput = `${encodedHeader}.${base64url(JSON.stringify(claims))}`;
      const signature = sign('sha256', Buffer.from(signingInput), signingKey);
      return `${signingInput}.${signature.toString('base64url')}`;
    },
  };
}

/**
 * The key ID docker/libtrust derives, which registry 2.x compares `kid` against: the first 240
 * bits of the SHA-256 of the DER SubjectPublicKeyInfo, in base32, in groups of four.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const digest = createHash('sha256')
    .update(publicKey.export({type: 'spki', format: 'der'}))
    .digest();
  return base32(digest.subarray(0, 30)).match(/.{4}/g)!.join(':');
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace. */
export function jwkThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({format: 'jwk'});
  const requiredMembers = requiredJwkMembers(jwk);
  return createHash('sha256').update(JSON.stringify(requiredMembers)).digest('base64url');
}

/** One key per certificate (the first in each text), so that several can be trusted during a rotation. */
export function verificationJwks(certificatePems: string[], keyIdFormat: KeyIdFormat): {keys: PublishedJwk[]} {
  return {
    keys: certificatePems.map((pem) => {
      const publicKey = readCertificateChain(pem)[0]!.publicKey;
      return {
        ...publicKey.export({format: 'jwk'}),
        kid: keyId(publicKey, keyIdFormat),
        alg: signingAlgorithmFor(publicKey),
        use: 'sig',
      };
    }),
  };
}

/** The key ID of a PEM text's first certificate, and when that certificate expires. */
export function certificateExpiry(certificatePem: string, keyIdFormat: KeyIdFormat): {kid: string; notAfter: Date} {
  const certificate = readCertificateChain(certificatePem)[0]!;
  return {kid: keyId(certificate.publicKey, keyIdFormat), notAfter: new Date(certificate.validTo)};
}

function keyId(publicKey: KeyObject, format: KeyIdFormat): string {
  return format === 'libtrust' ? libtrustKeyId(publicKey) : jwkThumbprint(publicKey);
}

function requiredJwkMembers(jwk: JsonWebKey): Record<string, unknown> {
  if (jwk.kty === 'EC') return {crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y};
  if (jwk.kty === 'RSA') return {e: jwk.e, kty: jwk.kty, n: jwk.n};
  throw new Error(`Cannot compute a JWK thumbprint for a key of type ${String(jwk.kty)}: only EC and RSA keys sign registry tokens.`);
}

function readPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new Error('The token signing key is not a readable unencrypted PEM private key.', {cause: error});
  }
}

/** Works on either half of a key pair: the registry only knows ES256 on P-256 and RS256. */
function signingAlgorithmFor(key: KeyObject): SigningAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ES256';
    throw new Error(`The token signing key is an EC key on curve ${details?.namedCurve ?? 'unknown'}; only P-256 (ES256) is supported.`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength ?? 0;
    if (bits >= MIN_RSA_BITS) return 'RS256';
    throw new Error(`The token signing key is a ${bits}-bit RSA key; RS256 needs at least ${MIN_RSA_BITS} bits.`);
  }
  throw new Error(
    `The token signing key is of type ${key.asymmetricKeyType ?? 'unknown'}; use an EC P-256 key (ES256) or an RSA key of at least ${MIN_RSA_BITS} bits (RS256).`,
  );
}

function readCertificateChain(pemText: string): X509Certificate[] {
  const blocks = pemText.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new Error('The token signing certificate text holds no PEM certificate.');
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`PEM certificate ${index + 1} of the token signing certificate cannot be parsed.`, {cause: error});
    }
  });
}

function assertCertificateHoldsKey(certificate: X509Certificate, privateKey: KeyObject): void {
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error(
      `The token signing certificate (subject "${certificate.subject}") is for a different key than the token signing private key; the registry would reject every token.`,
    );
  }
}

function assertCurrentlyValid(certificate: X509Certificate, now: Date): void {
  // Node 20 has no validFromDate/validToDate; its validFrom/validTo text ("Nov 29 18:10:14 2026 GMT") parses as a date.
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (now < notBefore || now > notAfter) {
    throw new Error(
      `The token signing certificate is valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}, not now (${now.toISOString()}).`,
    );
  }
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (node has no base32 codec). */
function base32(bytes: Uint8Array): string {
  let output = '';
  let buffered = 0;
  let bufferedBits = 0;
  for (const byte of bytes) {
    buffered = ((buffered << 8) | byte) & 0xfff;
    bufferedBits += 8;
    while (bufferedBits >= 5) {
      bufferedBits -= 5;
      output += BASE32_ALPHABET.charAt((buffered >>> bufferedBits) & 31);
    }
  }
  if (bufferedBits > 0) output += BASE32_ALPHABET.charAt((buffered << (5 - bufferedBits)) & 31);
  return output;
}
