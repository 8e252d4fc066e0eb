import type {JWTPayload, ProtectedHeaderParameters} from 'jose';
import {quoted} from '@hub/common/quote';
import {isCanonicalCompactJws} from '../compact-jws.js';

/**
 * The checks an OIDC access token passes before hub-auth believes what it says, each a small
 * function of what is in hand (the token, the provider's answer, the expectations), none calling
 * anyone, run in a fixed order:
 *
 * 1. any token: its length (before it is hashed or looked up), then its shape: a JWT, or an opaque
 *    token worth asking the provider about;
 * 2. a JWT: its spelling, before jose reads it; once jose has checked its signature, issuer,
 *    audience, algorithm and times, its `typ` header, then the claims that say what kind of token
 *    it is (JWT_CHECKS);
 * 3. an introspection answer: active, not expired, from our issuer, an access token, for our
 *    audience (INTROSPECTION_CHECKS); the token type comes before the audience, so that a refresh
 *    token is refused for what it is whatever audience it names;
 * 4. a UserInfo answer: it names a subject.
 *
 * Each throws InvalidTokenError saying what it found.
 */

export interface VerifiedClaims {
  /** The provider's `sub`; RFC 7662 makes it optional in an introspection answer. */
  subject: string | undefined;
  /** The raw claims, for the username and groups. */
  claims: Record<string, unknown>;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';

  /** False where a later look may differ: a key the provider may publish any moment now. */
  constructor(
    message: string,
    readonly final = true,
  ) {
    super(message);
  }
}

const MAX_TOKEN_LENGTH = 16_384;

export function checkLength(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('the token is too long');
}

/**
 * Three base64url parts: a JWT or nothing, never worth an introspection call. Padding after them
 * still makes a JWT, one spelled wrong (checkJwtSpelling refuses it), not an opaque token to send out.
 */
export function isJwtShaped(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*=*$/.test(token);
}

/**
 * Bounds of an opaque token worth asking the provider about. Real ones are 20–100 characters of
 * RFC 6750's token68 alphabet; what falls outside is refused here, without a call.
 */
const OPAQUE_TOKEN = /^[A-Za-z0-9\-._~+/]{16,4096}=*$/;

export function checkOpaqueShape(token: string): void {
  if (!OPAQUE_TOKEN.test(token))
    throw new NotATokenError('the token is not an access token (not a JWT, nor of the length and characters of an opaque token)');
}

/**
 * What no provider ever issues: most often a person's password typed into `docker login`, which
 * the token route answers with a pointer to `hub login` rather than with the token's shape.
 */
export class NotATokenError extends InvalidTokenError {
  override name = 'NotATokenError';
}

/** Before jose reads it: a JWT in the one spelling its signature has (compact-jws.ts). */
export function checkJwtSpelling(token: string): void {
  if (!isCanonicalCompactJws(token))
    throw new InvalidTokenError('the token is not a valid JWT: its parts are not in unpadded base64url, the one spelling RFC 7515 allows');
}

/** A JWT whose signature, issuer, audience, algorithm and times jose has checked. */
export interface SignedJwt {
  header: ProtectedHeaderParameters;
  payload: JWTPayload;
}

/**
 * ID tokens and refresh tokens can be JWTs signed with the same key: RFC 9068's `typ` header,
 * Keycloak's `typ` claim and Cognito's `token_use` tell them apart where the provider sets them.
 */
export function checkTypHeader({header}: SignedJwt): void {
  if (header.typ !== undefined && !/^(application\/)?(at\+jwt|jwt)$/i.test(header.typ)) {
    throw new InvalidTokenError(`the token is not an access token (its typ header is ${quoted(header.typ)})`);
  }
}

export function checkJwtTokenUse({payload}: SignedJwt): void {
  for (const marker of [payload.typ, payload.token_use]) {
    if (marker !== undefined && (typeof marker !== 'string' || !['bearer', 'access'].includes(marker.toLowerCase()))) {
      throw new InvalidTokenError(`the token is not an access token (it says it is ${quoted(marker)})`);
    }
  }
}

const JWT_CHECKS: readonly ((jwt: SignedJwt) => void)[] = [checkTypHeader, checkJwtTokenUse];

/** The claims of a signed JWT that passes JWT_CHECKS; jose has required its `sub` and `exp`. */
export function checkedJwt(jwt: SignedJwt): VerifiedClaims {
  for (const check of JWT_CHECKS) check(jwt);
  return {subject: jwt.payload.sub!, claims: jwt.payload as Record<string, unknown>, expiresAt: jwt.payload.exp!};
}

/** What an introspection answer must say of a token that hub-auth accepts. */
export interface IntrospectionExpectations {
  issuer: string;
  audience: readonly string[];
  clockSkewSeconds: number;
  nowSeconds: number;
  /** Refuse answers that do not say the token is an access token (token_type, typ, token_use). */
  requireTokenType: boolean;
  /** With allowMissingAudience, an answer with no `aud` passes for these clients' tokens. */
  allowMissingAudience: boolean;
  acceptedClientIds: readonly string[];
}

type IntrospectionAnswer = Record<string, unknown>;

export function checkActive(body: IntrospectionAnswer): void {
  if (body.active !== true) throw new InvalidTokenError('the identity provider says the token is not active');
}

export function checkNotExpired(body: IntrospectionAnswer, expected: IntrospectionExpectations): void {
  const exp = expiryOf(body);
  if (exp === undefined || exp + expected.clockSkewSeconds < expected.nowSeconds) throw new InvalidTokenError('the token has expired');
}

export function checkIssuer(body: IntrospectionAnswer, expected: IntrospectionExpectations): void {
  if (body.iss !== undefined && body.iss !== expected.issuer) throw new InvalidTokenError('the token is from another issuer');
}

/** The token types of RFC 7662 answers (and Keycloak's `typ`, Hydra's `token_use`) that mean an access token. */
const ACCESS_TOKEN_TYPES = new Set(['bearer', 'access_token', 'urn:ietf:params:oauth:token-type:access_token']);

/**
 * A refresh token is active too, and names the same subject and client: without this check the
 * user's refresh token (whose answer lacks the username) would pass as an access token. DPoP
 * tokens are refused as well: hub-auth cannot check the proof of possession they need.
 */
export function checkIntrospectedIsAccessToken(body: IntrospectionAnswer, expected: IntrospectionExpectations): void {
  const markers = [body.token_type, body.typ, body.token_use].filter((marker) => marker !== undefined);
  for (const marker of markers) {
    if (typeof marker !== 'string' || !ACCESS_TOKEN_TYPES.has(marker.toLowerCase())) {
      throw new InvalidTokenError(`the token is not an access token (the identity provider calls it ${quoted(marker)})`);
    }
  }
  if (expected.requireTokenType && markers.length === 0) {
    throw new InvalidTokenError(
      'the identity provider does not say the token is an access token (no token_type): a refresh token is not accepted',
    );
  }
}

export function checkAudience(body: IntrospectionAnswer, expected: IntrospectionExpectations): void {
  const audiences = Array.isArray(body.aud) ? body.aud : body.aud === undefined ? [] : [body.aud];
  // A token asked for another registry must not pass on its client id alone (issue #11, item 2).
  const forUs =
    audiences.length > 0
      ? audiences.some((aud) => expected.audience.includes(String(aud)))
      : expected.allowMissingAudience && expected.acceptedClientIds.includes(String(body.client_id));
  if (!forUs)
    throw new InvalidTokenError(
      audiences.length > 0 ? 'the token was issued for another audience' : 'the identity provider names no audience for the token',
    );
}

const INTROSPECTION_CHECKS: readonly ((body: IntrospectionAnswer, expected: IntrospectionExpectations) => void)[] = [
  checkActive,
  checkNotExpired,
  checkIssuer,
  checkIntrospectedIsAccessToken,
  checkAudience,
];

/** The claims of an introspection answer that passes INTROSPECTION_CHECKS. */
export function checkedIntrospection(body: IntrospectionAnswer, expected: IntrospectionExpectations): VerifiedClaims {
  for (const check of INTROSPECTION_CHECKS) check(body, expected);
  // No `sub` is legal (RFC 7662): accounts/requester.ts then goes by the username claims the answer has.
  return {subject: typeof body.sub === 'string' && body.sub ? body.sub : undefined, claims: body, expiresAt: expiryOf(body)!};
}

function expiryOf(body: IntrospectionAnswer): number | undefined {
  return typeof body.exp === 'number' ? body.exp : undefined;
}

/**
 * UserInfo answers for a token it accepts with the user's claims, and with no expiry: the answer
 * stands until `expiresAt`, when the provider is asked again.
 */
export function checkedUserInfo(claims: Record<string, unknown>, expiresAt: number): VerifiedClaims {
  if (typeof claims.sub !== 'string' || !claims.sub)
    throw new InvalidTokenError('the identity provider names no subject for the token (UserInfo has no sub)');
  return {subject: claims.sub, claims, expiresAt};
}
