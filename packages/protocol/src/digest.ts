/**
 * Content digests (OCI image spec, "Digests"), as the registry takes them: an algorithm go-digest
 * can verify, and that many lowercase hex digits. hub parses them in image references, hub-auth in
 * the registry's notifications, the web hub in its pages' addresses.
 */

/** Hex lengths of the algorithms go-digest can verify; distribution refuses any other algorithm. */
export const DIGEST_HEX_LENGTHS: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

const LOWER_HEX = /^[a-f0-9]+$/;

/** Whether `text` is a digest the registry accepts: `sha256:<64 hex>`, `sha384:…` or `sha512:…`. */
export function isDigest(text: string): boolean {
  const separator = text.indexOf(':');
  const length = DIGEST_HEX_LENGTHS.get(text.slice(0, Math.max(separator, 0)));
  const hex = text.slice(separator + 1);
  return length !== undefined && hex.length === length && LOWER_HEX.test(hex);
}

/** A digest's algorithm, which node:crypto's createHash knows by the same name. */
export const algorithmOf = (digest: string): string => digest.slice(0, digest.indexOf(':'));
