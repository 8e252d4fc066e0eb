/**
 * An identity provider describes itself in two documents that may differ: OpenID Connect discovery
 * (`ISSUER/.well-known/openid-configuration`) and RFC 8414 authorization server metadata
 * (`/.well-known/oauth-authorization-server` inserted before the issuer's path, RFC 8414 §3).
 * Some providers list their revocation or introspection endpoint only in the second. The OpenID
 * document stays the one read first and trusted for everything it names; the RFC 8414 one only
 * fills the endpoints it leaves out, and endpoints the operator or user configured win over both.
 */

/** The optional endpoints hub and hub-auth use, by their metadata names (RFC 8414 §2, RFC 8628 §4, OIDC Discovery §3). */
export const OPTIONAL_ENDPOINTS = [
  'revocation_endpoint',
  'introspection_endpoint',
  'device_authorization_endpoint',
  'userinfo_endpoint',
] as const;
export type OptionalEndpoint = (typeof OPTIONAL_ENDPOINTS)[number];

export type EndpointOverrides = Partial<Record<OptionalEndpoint, string>>;

/** Which of `wanted` neither the configured endpoints nor the OpenID document provide. */
export function missingEndpoints(
  openid: Record<string, unknown>,
  overrides: EndpointOverrides | undefined,
  wanted: readonly OptionalEndpoint[],
): OptionalEndpoint[] {
  return wanted.filter((name) => !overrides?.[name] && typeof openid[name] !== 'string');
}

/**
 * The OpenID document with the endpoints it lacks taken from the RFC 8414 document (only
 * endpoints: everything else the OpenID document says, or leaves out, stands), and the configured
 * endpoints over both.
 */
export function combinedMetadata<T extends Record<string, unknown>>(
  openid: T,
  oauth: Record<string, unknown> | undefined,
  overrides: EndpointOverrides | undefined,
): T {
  const combined: Record<string, unknown> = {...openid};
  for (const name of OPTIONAL_ENDPOINTS) {
    const fromOAuth = oauth?.[name];
    if (typeof combined[name] !== 'string' && typeof fromOAuth === 'string') combined[name] = fromOAuth;
    const configured = overrides?.[name];
    if (configured) combined[name] = configured;
  }
  return combined as T;
}
