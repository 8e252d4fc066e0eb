import {readFile} from 'node:fs/promises';
import {createSigner, type RegistryTokenSigner} from '../packages/hub-auth/src/tokens/signing.js';

/**
 * hub-auth's own signer with hub-auth's defaults (a libtrust key ID and the certificate in x5c, as
 * registry 2.x wants), from the key and certificate files: what the signing limits of
 * hub-auth-load.ts sign with.
 */
export async function hubAuthSigner(keyFile: string, certificateFile: string): Promise<RegistryTokenSigner> {
  return createSigner({
    privateKeyPem: await readFile(keyFile, 'utf8'),
    certificatePem: await readFile(certificateFile, 'utf8'),
    keyIdFormat: 'libtrust',
    includeX5c: true,
  });
}
