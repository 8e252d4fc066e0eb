import type {SignedInUser, Tokens} from '../auth/token-grants.js';
import {jwtClaims} from '../auth/jwt-claims.js';
import type {Session} from '../store/session.js';

/** What a grant, or a token presented as it is, gives a session. */
export interface Grant {
  accessToken: string;
  refreshToken?: string;
  /** A robot's client secret (--client-credentials): how it gets its next token. */
  clientSecret?: string;
  /** Seconds since the epoch; absent when nobody said. */
  expiresAt?: number;
  scope?: string;
}

/**
 * Every session hub keeps or hands out is made here: at login, at each refresh, and from HUB_TOKEN.
 * A refresh passes the session it renews, whose refresh token, secret, scope and identity token
 * stay unless the provider's answer restates them.
 */
export function buildSession(
  registry: string,
  client: {issuer: string; clientId: string},
  {subject, account}: SignedInUser,
  grant: Grant,
  previous?: Session,
): Session {
  return {
    registry,
    issuer: client.issuer,
    clientId: client.clientId,
    account,
    subject,
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken ?? previous?.refreshToken,
    // A robot renews with its secret each time: losing it would end the session at the next expiry.
    clientSecret: grant.clientSecret ?? previous?.clientSecret,
    expiresAt: grant.expiresAt,
    scope: grant.scope ?? previous?.scope,
    // Same person, same registry: docker's identity token stays good across a refresh.
    identityToken: previous?.identityToken,
  };
}

/** The grant in a token endpoint's answer, whose lifetime counts from `nowSeconds`. */
export function grantFromTokens(
  tokens: Pick<Tokens, 'access_token' | 'refresh_token' | 'expires_in' | 'scope'>,
  nowSeconds: number,
): Grant {
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: tokens.expires_in === undefined ? undefined : nowSeconds + tokens.expires_in,
    scope: tokens.scope,
  };
}

/** A token used as it is (`--with-token`, HUB_TOKEN): its `exp`, when it is a JWT, says when it ends. */
export function presentedGrant(token: string): Grant {
  const exp = jwtClaims(token)?.exp;
  return {accessToken: token, expiresAt: typeof exp === 'number' ? exp : undefined};
}
