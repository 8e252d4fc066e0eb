import * as client from 'openid-client';
import {HubError, isTransientNetworkError, rootMessage} from '@hub/common/errors';
import {fetchWithBareFormType} from '@hub/common/net/form-content-type';
import {isHttpsOrLoopback} from '@hub/common/net/loopback';
import {combinedMetadata, missingEndpoints} from '@hub/protocol/authorization-server-metadata';
import type {HubEndpoint, HubEndpoints} from '../config/settings.js';
import {passedOn, QUOTED_LENGTH} from '@hub/common/quote';

/** The sign-in part of a registry's settings: what hub needs to talk to its identity provider as a public client. */
export interface SignInSettings {
  issuer: string;
  clientId: string;
  scopes: string;
  /** The API the access token is for; sent as `audience`, and as RFC 8707 `resource` when it is a URL. */
  audience?: string;
  /** Endpoints to use whatever the provider's metadata says (settings `endpoints`). */
  endpoints?: HubEndpoints;
}

export const DEFAULT_HTTP_TIMEOUT_SECONDS = 30;

export interface DiscoveryOptions {
  /**
   * Endpoints the caller is about to use: when the OpenID document lacks one, hub reads the
   * provider's RFC 8414 metadata too. Only then, so that a refresh costs one request, not two.
   */
  needs?: readonly HubEndpoint[];
  timeoutSeconds?: number;
}

/** OIDC discovery for hub as a public client (PKCE, no secret), or for a robot with its secret. */
export async function discoverProvider(
  settings: SignInSettings,
  clientSecret?: string,
  options: DiscoveryOptions = {},
): Promise<client.Configuration> {
  const issuer = parseIssuer(settings.issuer);
  for (const [name, url] of Object.entries(settings.endpoints ?? {})) checkEndpoint(name, url);
  const http = {
    execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
    timeout: options.timeoutSeconds ?? DEFAULT_HTTP_TIMEOUT_SECONDS,
    [client.customFetch]: fetchWithBareFormType,
  };
  const authentication = clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret);
  const openid = await openIdDiscovery(issuer, settings.clientId, authentication, http);
  const metadata = openid.serverMetadata();
  const missing = missingEndpoints(metadata, settings.endpoints, options.needs ?? []);
  const oauth = missing.length > 0 ? await oauthMetadata(new URL(metadata.issuer), settings.clientId, http) : undefined;
  if (!oauth && !settings.endpoints) return openid;
  const combined = new client.Configuration(
    combinedMetadata(metadata, oauth, settings.endpoints),
    settings.clientId,
    undefined,
    authentication,
  );
  combined.timeout = http.timeout;
  combined[client.customFetch] = fetchWithBareFormType;
  for (const extension of http.execute) extension(combined);
  return combined;
}

type HttpOptions = Pick<client.DiscoveryRequestOptions, 'execute' | 'timeout' | typeof client.customFetch>;

/**
 * The OpenID document, checked to name the issuer it was fetched for. An issuer typed with a
 * trailing slash the provider's has not (or without one it has) loads the same document, which
 * names the exact issuer: hub then discovers again with that exact issuer, and the check runs in
 * full against it. Any other difference is a mix-up and ends the login, naming what the document says.
 */
async function openIdDiscovery(
  issuer: URL,
  clientId: string,
  authentication: client.ClientAuth,
  http: HttpOptions,
): Promise<client.Configuration> {
  try {
    return await client.discovery(issuer, clientId, undefined, authentication, http);
  } catch (error) {
    const named = issuerNamedInstead(error);
    if (named === undefined || !differOnlyInTrailingSlash(issuer.href, named)) throw discoveryError(issuer, error, named);
    try {
      return await client.discovery(new URL(named), clientId, undefined, authentication, http);
    } catch (again) {
      throw discoveryError(issuer, again, issuerNamedInstead(again));
    }
  }
}

/** The issuer a discovery document names when openid-client refused it for naming another. */
function issuerNamedInstead(error: unknown): string | undefined {
  if (!(error instanceof client.ClientError) || error.code !== 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') return undefined;
  const cause = error.cause as {attribute?: unknown; body?: {issuer?: unknown}} | undefined;
  return cause?.attribute === 'issuer' && typeof cause.body?.issuer === 'string' && URL.canParse(cause.body.issuer)
    ? cause.body.issuer
    : undefined;
}

function differOnlyInTrailingSlash(typed: string, named: string): boolean {
  return typed.replace(/\/$/, '') === new URL(named).href.replace(/\/$/, '');
}

function discoveryError(issuer: URL, error: unknown, named: string | undefined): HubError {
  if (isTransientNetworkError(error)) {
    return new HubError(`Cannot reach the identity provider at ${issuer.href}: ${rootMessage(error)}.`, {
      code: 'provider_unreachable',
      cause: error,
      suggestions: ['Check the issuer URL and your network, then try again.'],
    });
  }
  if (named !== undefined) {
    return new HubError(
      `The discovery document of ${issuer.href} names another issuer, ${named}, so hub does not trust it for ${issuer.href}.`,
      {
        code: 'issuer_mismatch',
        cause: error,
        suggestions: [
          `If ${named} is your identity provider, use exactly that: --issuer ${named} (and the same in hub-auth's oidc.issuer).`,
        ],
      },
    );
  }
  return new HubError(`${issuer.href} did not return a valid OpenID Connect discovery document: ${describeOAuthError(error)}.`, {
    code: 'provider_invalid',
    cause: error,
    suggestions: ['Check that --issuer is the issuer URL of an OpenID Connect provider (its /.well-known/openid-configuration must load).'],
  });
}

/**
 * RFC 8414 metadata, for the endpoints the OpenID document leaves out. A provider without such a
 * document (most answer 404) or with one naming another issuer simply adds nothing; one that
 * cannot be reached fails the request like the OpenID document would.
 */
async function oauthMetadata(issuer: URL, clientId: string, http: HttpOptions): Promise<client.ServerMetadata | undefined> {
  try {
    return (await client.discovery(issuer, clientId, undefined, client.None(), {...http, algorithm: 'oauth2'})).serverMetadata();
  } catch (error) {
    if (isTransientNetworkError(error)) throw discoveryError(issuer, error, undefined);
    return undefined;
  }
}

function checkEndpoint(name: string, value: string): void {
  if (!isHttpsOrLoopback(new URL(value))) {
    throw new HubError(
      `hub talks to identity providers over https only (plain http only on loopback), not ${value} (${name} in hub's settings).`,
      {
        exit: 2,
        code: 'invalid_settings',
      },
    );
  }
}

function parseIssuer(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HubError(`"${value}" is not a URL; the issuer must be the identity provider's https URL.`, {exit: 2, code: 'invalid_issuer'});
  }
  if (isHttpsOrLoopback(url)) return url;
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
    return error.error_description
      ? `${passedOn(error.error, QUOTED_LENGTH)}: ${passedOn(error.error_description)}`
      : passedOn(error.error, QUOTED_LENGTH);
  }
  return rootMessage(error);
}

/**
 * `invalid_scope`: the provider does not know, or does not allow this client, a scope hub asked
 * for. Names what hub asked and which of it the provider does not list, and how to change either.
 */
export function scopeRefused(oidcConfig: client.Configuration, settings: SignInSettings, providerWords: string): HubError {
  const asked = settings.scopes.split(' ').filter(Boolean);
  const listed = oidcConfig.serverMetadata().scopes_supported;
  const unlisted = listed ? asked.filter((scope) => !listed.includes(scope)) : [];
  const offered = listed ? asked.filter((scope) => listed.includes(scope)) : [];
  return new HubError(
    `The identity provider refused the scopes hub asked for (${settings.scopes})${unlisted.length > 0 ? `; it does not list ${unlisted.join(' ')}` : ''}: ${passedOn(providerWords)}. Nothing was stored.`,
    {
      code: 'invalid_scope',
      suggestions: [
        `Ask for scopes the provider allows the client ${settings.clientId}: \`hub login --scope "${unlisted.length > 0 && offered.length > 0 ? offered.join(' ') : 'SCOPES'}"\` (or HUB_SCOPE); hub saves them with the registry's settings.`,
        `Or have your identity provider administrator enable ${asked.join(', ')} for that client: hub needs openid to learn who signed in and offline_access for a refresh token (see "Identity providers" in hub's README).`,
      ],
    },
  );
}

/**
 * True when the provider said the grant itself is no longer good, as opposed to a passing failure.
 * invalid_request too: asking again the same way cannot help, and LemonLDAP::NG (2.16) answers
 * a refresh token it no longer knows with it instead of RFC 6749 §5.2's invalid_grant.
 */
export function isGrantRejected(error: unknown): boolean {
  return (
    error instanceof client.ResponseBodyError &&
    ['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_request'].includes(error.error)
  );
}
