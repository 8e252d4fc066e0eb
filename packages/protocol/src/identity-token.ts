/**
 * hub-auth's identity tokens (docker's refresh tokens) as hub reads them: the claims hub looks at,
 * and where a token is revoked. hub-auth signs them (packages/hub-auth/src/tokens/refresh-token.ts)
 * and serves the endpoint; hub renews and revokes with them.
 */
export const IDENTITY_TOKEN_CLAIMS = {
  /** The sign-in session the token stands for (hub-auth's id, not the provider's). */
  session: 'sid',
  /**
   * The re-check window in seconds (refreshTokens.revalidateSeconds): the token is traded only
   * while its session was re-checked at the identity provider that recently, so hub re-trades a
   * fresh provider token with it before half of the window has passed.
   */
  recheckWindow: 'chk',
} as const;

/**
 * RFC 7009 token revocation next to the realm (`…/token` → `…/revoke`): a POST form with `token`,
 * the identity token, which ends its session at hub-auth.
 */
export const TOKEN_REVOCATION = 'revoke';

export function tokenRevocationUrl(realm: string): URL {
  return new URL(TOKEN_REVOCATION, realm);
}
