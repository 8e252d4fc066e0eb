import {compactVerify, type CompactVerifyGetKey} from 'jose';
import {checkJwtSpelling, checkLength, InvalidTokenError} from './access-token-checks.js';
import {checkedLogoutToken, type LogoutClaims, type LogoutExpectations} from './logout-token-checks.js';
import {verificationFailure} from './verify-access-token.js';

export type {LogoutClaims, LogoutExpectations};

export interface LogoutTokenOptions extends Omit<LogoutExpectations, 'nowSeconds'> {
  /** The provider's keys: the ones its access tokens are checked with (AccessTokenVerifier.providerKeys). */
  keys: () => Promise<CompactVerifyGetKey>;
  algorithms: readonly string[];
  nowSeconds: () => number;
}

/**
 * Checks a back-channel logout token: a JWS signed by one of the provider's keys with an allowed
 * algorithm (jose checks the signature only: what the claims must say is logout-token-checks.ts,
 * in its order). Throws InvalidTokenError for a bad token, UpstreamError when the provider's keys
 * cannot be fetched (the provider is answered 503, and sends it again).
 */
export async function verifyLogoutToken(token: string, options: LogoutTokenOptions): Promise<LogoutClaims> {
  checkLength(token);
  checkJwtSpelling(token);
  let verified: Awaited<ReturnType<typeof compactVerify>>;
  try {
    verified = await compactVerify(token, await options.keys(), {algorithms: [...options.algorithms]});
  } catch (error) {
    throw verificationFailure(error);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(verified.payload));
  } catch {
    throw new InvalidTokenError('the logout token is not a JWT: its payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
    throw new InvalidTokenError('the logout token is not a JWT: its payload is not a JSON object');
  return checkedLogoutToken(
    {header: verified.protectedHeader, claims: claims as Record<string, unknown>},
    {...options, nowSeconds: options.nowSeconds()},
  );
}
