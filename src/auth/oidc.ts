import * as client from 'openid-client';
import {HubError, isTransientNetworkError, rootMessage} from '../errors.js';
import {isLoopbackUrl} from '../net/loopback.js';

/** What hub needs to know to talk to a registry's identity provider as a public client. */
export interface ProviderSettings {
  issuer: string;
  clientId: string;
  scopes: string;
  /** The API the access token is for; sent as `audience`, and as RFC 8707 `resource` when it is a URL. */
  audience?: string;
}

export const DEFAULT_HTTP_TIMEOUT_SECONDS = 30;

/** OIDC discovery for hub as a public client (PKCE, no secret), or for a robot with its secret. */
export async function discoverProvider(
  settings: ProviderSettings,
  clientSecret?: string,
  timeoutSeconds = DEFAULT_HTTP_TIMEOUT_SECONDS,
): Promise<client.Configuration> {
  const issuer = parseIssuer(settings.issuer);
  const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [];
  try {
    const authentication = clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret);
    return await client.discovery(issuer, settings.clientId, undefined, authentication, {execute, timeout: timeoutSeconds});
  } catch (error) {
    if (isTransientNetworkError(error)) {
      throw new HubError(`Cannot reach the identity provider at ${issuer.href}: ${rootMessage(error)}.`, {
        code: 'provider_unreachable',
        cause: error,
        suggestions: ['Check the issuer URL and your network, then try again.'],
      });
    }
    throw new HubError(`${issuer.href} did not return a valid OpenID Connect discovery document: ${describeOAuthError(error)}.`, {
      code: 'provider_invalid',
      cause: error,
      suggestions: ['Check that --issuer is the issuer URL of an OpenID Connect provider (its /.well-known/openid-configuration must load).'],
    });
  }
}

function parseIssuer(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HubError(`"${value}" is not a URL; the issuer must be the identity provider's https URL.`, {exit: 2, code: 'invalid_issuer'});
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url))) return url;
  throw new HubError(`hub talks to identity providers over https only (plain http only on loopback), not ${url.href}.`, {
    exit: 2,
    code: 'invalid_issuer',
  });
}

/** Extra authorization and token request parameters that name the API the token is for. */
export function audienceParameters(audience: string | undefined): Record<string, string> {
  if (!audience) return {};
  return URL.canParse(audience) ? {audience, resource: audience} : {audience};
}

/** The provider's own words for an OAuth error, without anything that could hold a secret. */
export function describeOAuthError(error: unknown): string {
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) {
    return error.error_description ? `${error.error}: ${error.error_description}` : error.error;
  }
  return rootMessage(error);
}

/**
 * True when the provider said the grant itself is no longer good, as opposed to a passing failure.
 * invalid_request too: asking again the same way cannot help, and LemonLDAP::NG (2.16) answers
 * a refresh token it no longer knows with it instead of RFC 6749 §5.2's invalid_grant.
 */
export function isGrantRejected(error: unknown): boolean {
  return error instanceof client.ResponseBodyError && ['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_request'].includes(error.error);
}
