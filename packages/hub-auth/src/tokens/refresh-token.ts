import {createPublicKey, randomUUID, verify as verifySignature, type JsonWebKey, type KeyObject} from 'node:crypto';
import {isCanonicalCompactJws} from '../compact-jws.js';
import type {Holder} from '../holder.js';

/**
 * hub-auth's own refresh tokens: what docker keeps as its `identitytoken` after `docker login`
 * and sends back (grant_type=refresh_token) for every later push and pull. They are JWTs signed
 * with the registry-token key, so any instance can check them without shared state. Their
 * audience is not the registry's service, so a registry never takes one for an access token.
 */

export const REFRESH_AUDIENCE = 'hub-auth-refresh';

export interface RefreshTokenContents {
  account: string;
  groups: string[];
  service: string;
  /** Whose account it is: checked against the bindings on every use, so a released name is not kept. */
  holder: Holder;
}

type RefreshClaims = {
  iss: string;
  aud: string;
  sub: string;
  svc: string;
  grp: string[];
  hld: {iss: string; sub: string};
  token_use: 'refresh';
  iat: number;
  exp: number;
  jti: string;
};

export function refreshClaims(contents: RefreshTokenContents, issuer: string, nowSeconds: number, lifetimeSeconds: number): RefreshClaims {
  return {
    iss: issuer,
    aud: REFRESH_AUDIENCE,
    sub: contents.account,
    svc: contents.service,
    grp: contents.groups,
    hld: {iss: contents.holder.issuer, sub: contents.holder.subject},
    token_use: 'refresh',
    iat: nowSeconds,
    exp: nowSeconds + lifetimeSeconds,
    jti: randomUUID(),
  };
}

export interface VerificationKey {
  kid: string;
  alg: string;
  key: KeyObject;
}

export function verificationKeysFromJwks(jwks: {keys: Array<JsonWebKey & {kid: string; alg: string}>}): VerificationKey[] {
  return jwks.keys.map((jwk) => ({kid: jwk.kid, alg: jwk.alg, key: createPublicKey({key: jwk, format: 'jwk'})}));
}

/**
 * What a refresh token carries, or undefined when it is not one of ours, or no longer good.
 *
 * Checked with node:crypto, not jose's jwtVerify: docker sends the refresh token with every token
 * request of a push or pull, and no cache stands in front of this check. Measured with
 * bench/refresh-token-verify.ts (CPU time per check, median of 5 alternating runs, on the
 * 2-core CI machine under load, 2026-12-02): ES256 96–115 µs here against 173–471 µs with
 * jwtVerify over a local JWK set; RS256 81 µs against 309 µs. jose verifies through WebCrypto
 * (a promise and a copy per call); the token is ours, so only our own algorithms, `kid`s and claims
 * need checking.
 */
export function readRefreshToken(
  token: string,
  keys: readonly VerificationKey[],
  expected: {issuer: string; service: string; nowSeconds: number},
): (RefreshTokenContents & {expiresAt: number}) | undefined {
  if (token.length > 8192 || !isCanonicalCompactJws(token)) return undefined;
  const [headerPart, payloadPart, signaturePart] = token.split('.') as [string, string, string];
  const header = decodeJson(headerPart);
  const key = keys.find((k) => k.kid === header?.kid && k.alg === header?.alg);
  if (!key) return undefined;
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  const valid =
    key.alg === 'ES256'
      ? verifySignature('sha256', signed, {key: key.key, dsaEncoding: 'ieee-p1363'}, signature)
      : verifySignature('sha256', signed, key.key, signature);
  if (!valid) return undefined;
  const claims = decodeJson(payloadPart) as Partial<RefreshClaims> | undefined;
  if (
    !claims ||
    claims.token_use !== 'refresh' ||
    claims.aud !== REFRESH_AUDIENCE ||
    claims.iss !== expected.issuer ||
    claims.svc !== expected.service ||
    typeof claims.sub !== 'string' ||
    !Array.isArray(claims.grp) ||
    typeof claims.hld?.iss !== 'string' ||
    typeof claims.hld.sub !== 'string' ||
    typeof claims.exp !== 'number' ||
    claims.exp < expected.nowSeconds
  ) {
    return undefined;
  }
  return {
    expiresAt: claims.exp,
    account: claims.sub,
    groups: claims.grp.filter((g): g is string => typeof g === 'string'),
    service: claims.svc,
    holder: {issuer: claims.hld.iss, subject: claims.hld.sub},
  };
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
