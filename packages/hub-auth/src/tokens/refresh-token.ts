import {createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject} from 'node:crypto';
import {IDENTITY_TOKEN_CLAIMS} from '@hub/protocol/identity-token';
import {isCanonicalCompactJws} from '../compact-jws.js';

/**
 * hub-auth's refresh tokens: what docker keeps as its `identitytoken` after `docker login`
 * and sends back (grant_type=refresh_token) for every later push and pull. They are JWTs signed
 * with the registry-token key, and name the sign-in session they stand for and their own id
 * (jti, as recorded in identity_tokens): the session row in the store says whose they are, with
 * which groups, and whether they still work, so the token carries nothing more (it goes with
 * every token request). Their audience is not the registry's service, so a registry never takes
 * one for an access token.
 */

export const REFRESH_AUDIENCE = 'hub-auth-refresh';

export interface RefreshTokenContents {
  account: string;
  service: string;
  sessionId: string;
  tokenId: string;
}

const {session: SESSION, recheckWindow: RECHECK_WINDOW} = IDENTITY_TOKEN_CLAIMS;

type RefreshClaims = {
  iss: string;
  aud: string;
  sub: string;
  svc: string;
  token_use: 'refresh';
  iat: number;
  exp: number;
  jti: string;
  [SESSION]: string;
  /** refreshTokens.revalidateSeconds, for hub: when to re-check the session before it lapses. */
  [RECHECK_WINDOW]: number;
};

export function refreshClaims(
  contents: RefreshTokenContents,
  issuer: string,
  nowSeconds: number,
  lifetime: {lifetimeSeconds: number; revalidateSeconds: number},
): RefreshClaims {
  return {
    iss: issuer,
    aud: REFRESH_AUDIENCE,
    sub: contents.account,
    svc: contents.service,
    token_use: 'refresh',
    iat: nowSeconds,
    exp: nowSeconds + lifetime.lifetimeSeconds,
    jti: contents.tokenId,
    [SESSION]: contents.sessionId,
    [RECHECK_WINDOW]: lifetime.revalidateSeconds,
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
  const contents = signedRefreshToken(token, keys, expected);
  return contents && contents.expiresAt >= expected.nowSeconds ? contents : undefined;
}

/**
 * A refresh token we signed, expired or not: an expired one still names its session, which a
 * revocation ends (RFC 7009 lets a client revoke what it holds, whatever its age).
 */
export function signedRefreshToken(
  token: string,
  keys: readonly VerificationKey[],
  expected: {issuer: string; service: string},
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
    !isUuid(claims[SESSION]) ||
    !isUuid(claims.jti) ||
    typeof claims.exp !== 'number'
  ) {
    return undefined;
  }
  return {expiresAt: claims.exp, account: claims.sub, service: claims.svc, sessionId: claims[SESSION], tokenId: claims.jti};
}

/** The store keys sessions and tokens by uuid: anything else never reaches a query. */
function isUuid(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
