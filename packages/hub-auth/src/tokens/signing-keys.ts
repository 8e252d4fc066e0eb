import {readSecret, type TokenServiceConfig} from '../config.js';
import type {CertificateExpiry} from '../metrics.js';
import {verificationKeysFromJwks, type VerificationKey} from './refresh-token.js';
import {certificateExpiry, createSigner, verificationJwks, type RegistryTokenSigner} from './signing.js';

/** Everything the `signing` section of the configuration decides, read from its files or variables. */
export interface SigningKeys {
  signer: RegistryTokenSigner;
  /** What /.well-known/jwks.json publishes: the signing key first, then the published ones. */
  jwks: ReturnType<typeof verificationJwks>;
  /** The same keys, as refresh tokens are checked against. */
  verificationKeys: VerificationKey[];
  certificates: CertificateExpiry[];
}

/** Reads and checks the key and certificates `signing` names; throws naming the first that is wrong. */
export async function loadSigningKeys(signing: TokenServiceConfig['signing'], env: NodeJS.ProcessEnv): Promise<SigningKeys> {
  const privateKeyPem = await readSecret(signing.key, 'signing.key', env);
  const certificatePem = await readSecret(signing.certificate, 'signing.certificate', env);
  const published = await Promise.all(signing.publish.map((source, i) => readSecret(source, `signing.publish.${i}`, env)));
  const signer = createSigner({privateKeyPem, certificatePem, keyIdFormat: signing.keyId, includeX5c: signing.x5c});
  const jwks = verificationJwks([certificatePem, ...published], signing.keyId);
  return {
    signer,
    jwks,
    verificationKeys: verificationKeysFromJwks(jwks),
    certificates: [
      {...certificateExpiry(certificatePem, signing.keyId), role: 'signing'},
      ...published.map((pem) => ({...certificateExpiry(pem, signing.keyId), role: 'published' as const})),
    ],
  };
}
