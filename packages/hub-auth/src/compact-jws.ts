/**
 * A JWS in compact form has one spelling: three parts of unpadded base64url (RFC 7515 §2, §3.1).
 * Decoders are lenient (node's Buffer and atob take padding, skip stray characters, ignore the
 * unused bits of the last character), so without this check one signed token has many texts, and
 * anything keyed on the text (the remembered verdicts, a list of revoked tokens) can be
 * sidestepped by spelling the same token anew.
 */

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function isCanonicalCompactJws(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every(isCanonicalBase64url);
}

function isCanonicalBase64url(part: string): boolean {
  return BASE64URL.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part;
}
