import type {ProtectedHeaderParameters} from 'jose';
import {quoted} from '@hub/common/quote';
import {InvalidTokenError} from './access-token-checks.js';

/**
 * The checks a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, §2.4 and §2.6)
 * passes once its signature has been checked against the provider's keys, each a small function
 * of the token and the expectations, none calling anyone, run in a fixed order (LOGOUT_CHECKS):
 * its `typ` header, `iss`, `aud`, `iat`, `exp`, `jti`, the `events` claim, `sub` and/or `sid`, and
 * no `nonce` (which tells an ID token apart, so that no ID token passes for a logout token).
 * That its `jti` is seen once only is the store's to say (sessions/provider-logout.ts).
 *
 * Each throws InvalidTokenError saying what it found.
 */

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutExpectations {
  issuer: string;
  /** The client ids of ours the provider sends logout tokens for: one of them must be in `aud`. */
  audience: readonly string[];
  clockSkewSeconds: number;
  nowSeconds: number;
}

/** A JWS whose signature is the provider's, its payload read as JSON. */
export interface SignedLogoutToken {
  header: ProtectedHeaderParameters;
  claims: Record<string, unknown>;
}

/** What a valid logout token says: which provider session or person it ends, and its id, kept until it expires. */
export interface LogoutClaims {
  issuer: string;
  jti: string;
  expiresAt: number;
  subject?: string;
  providerSession?: string;
}

/** §2.4: `logout+jwt` is recommended, not required: a token without `typ` passes, one of another kind does not. */
export function checkLogoutTyp({header}: SignedLogoutToken): void {
  if (header.typ !== undefined && !/^(application\/)?logout\+jwt$/i.test(header.typ))
    throw new InvalidTokenError(`the token is not a logout token (its typ header is ${quoted(header.typ)}, not logout+jwt)`);
}

export function checkLogoutIssuer({claims}: SignedLogoutToken, expected: LogoutExpectations): void {
  if (claims.iss !== expected.issuer) throw new InvalidTokenError(`the logout token is from another issuer than ${expected.issuer}`);
}

export function checkLogoutAudience({claims}: SignedLogoutToken, expected: LogoutExpectations): void {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => typeof aud === 'string' && expected.audience.includes(aud)))
    throw new InvalidTokenError(
      `the logout token is not for this service's clients (its aud names none of ${expected.audience.join(', ')})`,
    );
}

export function checkLogoutIssuedAt({claims}: SignedLogoutToken, expected: LogoutExpectations): void {
  if (typeof claims.iat !== 'number') throw new InvalidTokenError('the logout token has no iat');
  if (claims.iat > expected.nowSeconds + expected.clockSkewSeconds)
    throw new InvalidTokenError('the logout token is issued in the future (its iat is past the clock skew allowed)');
}

/** §2.4 makes `exp` required: it also bounds how long the token's `jti` must be remembered. */
export function checkLogoutNotExpired({claims}: SignedLogoutToken, expected: LogoutExpectations): void {
  if (typeof claims.exp !== 'number') throw new InvalidTokenError('the logout token has no exp');
  if (claims.exp + expected.clockSkewSeconds < expected.nowSeconds) throw new InvalidTokenError('the logout token has expired');
}

const MAX_JTI_LENGTH = 256;

export function checkLogoutJti({claims}: SignedLogoutToken): void {
  if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > MAX_JTI_LENGTH)
    throw new InvalidTokenError(`the logout token has no jti (a text of 1 to ${MAX_JTI_LENGTH} characters)`);
}

export function checkLogoutEvents({claims}: SignedLogoutToken): void {
  const events = claims.events;
  const event = isJsonObject(events) ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (!isJsonObject(event))
    throw new InvalidTokenError(`the logout token's events claim has no ${BACKCHANNEL_LOGOUT_EVENT} member that is a JSON object`);
}

export function checkLogoutSubjectOrSession({claims}: SignedLogoutToken): void {
  for (const name of ['sub', 'sid'] as const) {
    if (claims[name] !== undefined && (typeof claims[name] !== 'string' || claims[name] === ''))
      throw new InvalidTokenError(`the logout token's ${name} is not a text`);
  }
  if (claims.sub === undefined && claims.sid === undefined)
    throw new InvalidTokenError('the logout token names neither a subject (sub) nor a session (sid)');
}

export function checkLogoutHasNoNonce({claims}: SignedLogoutToken): void {
  if (claims.nonce !== undefined) throw new InvalidTokenError('the token has a nonce: it is an ID token, not a logout token');
}

const LOGOUT_CHECKS: readonly ((token: SignedLogoutToken, expected: LogoutExpectations) => void)[] = [
  checkLogoutTyp,
  checkLogoutIssuer,
  checkLogoutAudience,
  checkLogoutIssuedAt,
  checkLogoutNotExpired,
  checkLogoutJti,
  checkLogoutEvents,
  checkLogoutSubjectOrSession,
  checkLogoutHasNoNonce,
];

/** What a signed logout token that passes LOGOUT_CHECKS says. */
export function checkedLogoutToken(token: SignedLogoutToken, expected: LogoutExpectations): LogoutClaims {
  for (const check of LOGOUT_CHECKS) check(token, expected);
  const {claims} = token;
  return {
    issuer: expected.issuer,
    jti: claims.jti as string,
    expiresAt: claims.exp as number,
    ...(claims.sub === undefined ? {} : {subject: claims.sub as string}),
    ...(claims.sid === undefined ? {} : {providerSession: claims.sid as string}),
  };
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
