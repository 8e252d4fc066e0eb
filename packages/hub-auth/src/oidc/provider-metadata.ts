import * as client from 'openid-client';
import {combinedMetadata} from '@hub/protocol/authorization-server-metadata';
import {UpstreamError} from './introspection-gate.js';

/**
 * Where hub-auth reaches the identity provider: OpenID discovery and the RFC 8414 authorization
 * server metadata, merged, with the operator's explicit endpoints over both. Providers put some
 * endpoints in one document only (introspection and revocation in the RFC 8414 one, as glewlwyd
 * does), and both are the provider's word, checked by openid-client for the same issuer.
 */

/** The endpoints an operator may name in `oidc.endpoints` (and `oidc.jwksUri`), over discovery. */
export interface EndpointOverrides {
  jwks?: string;
  introspection?: string;
  userinfo?: string;
}

/** The provider said something hub-auth's configuration cannot work with: the operator must act. */
export class ProviderConfigurationError extends Error {
  override name = 'ProviderConfigurationError';
}

export interface ProviderMetadata {
  /** For openid-client's introspection and UserInfo calls. */
  configuration: client.Configuration;
  metadata: client.ServerMetadata;
  /** The documents read, for messages that say where an endpoint was looked for. */
  documents: string[];
}

/** The two documents of an issuer (RFC 8414 §3 inserts the well-known path before the issuer's path). */
export function metadataUrls(issuer: string): {openid: string; oauth: string} {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return {
    openid: `${url.origin}${path}/.well-known/openid-configuration`,
    oauth: `${url.origin}/.well-known/oauth-authorization-server${path}`,
  };
}

/**
 * One set of metadata from the documents that loaded ([OpenID, RFC 8414]), by the rules hub uses
 * too (@hub/protocol/authorization-server-metadata): the OpenID document's word, endpoints it
 * lacks from the RFC 8414 one, the operator's over both. With only the RFC 8414 document, it alone.
 */
export function mergeMetadata(
  [openid, oauth]: readonly [client.ServerMetadata | undefined, client.ServerMetadata | undefined],
  overrides: EndpointOverrides,
): client.ServerMetadata {
  const primary = openid ?? oauth;
  if (!primary) throw new Error('no metadata document to merge');
  const merged = combinedMetadata(primary, openid ? oauth : undefined, {
    introspection_endpoint: overrides.introspection,
    userinfo_endpoint: overrides.userinfo,
  });
  return overrides.jwks ? {...merged, jwks_uri: overrides.jwks} : merged;
}

export interface MetadataOptions {
  issuer: string;
  overrides: EndpointOverrides;
  timeoutSeconds: number;
  /** hub-auth's own client at the provider, for introspection; none for the other calls. */
  client?: {id: string; secret: string};
}

/** Discovery, done on first use and again after a failure. */
export function lazyProviderMetadata(options: MetadataOptions): () => Promise<ProviderMetadata> {
  let loaded: Promise<ProviderMetadata> | undefined;
  return () => {
    loaded ??= loadProviderMetadata(options).catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}

async function loadProviderMetadata(options: MetadataOptions): Promise<ProviderMetadata> {
  const issuer = new URL(options.issuer);
  const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [];
  const clientId = options.client?.id ?? 'hub-auth';
  const authentication = options.client ? client.ClientSecretBasic(options.client.secret) : client.None();
  const urls = metadataUrls(options.issuer);
  const attempts = await Promise.all(
    (['oidc', 'oauth2'] as const).map(async (algorithm) => {
      const url = algorithm === 'oidc' ? urls.openid : urls.oauth;
      try {
        const found = await client.discovery(issuer, clientId, undefined, authentication, {
          algorithm,
          execute,
          timeout: options.timeoutSeconds,
        });
        return {url, metadata: found.serverMetadata()};
      } catch (error) {
        return {url, error: error as Error};
      }
    }),
  );
  // An outage (no answer, a 5xx) may hide the very endpoint we need: no partial metadata then,
  // discovery is tried again. A document the provider does not publish, or publishes for another
  // issuer, is left out, and said so where an endpoint is looked for.
  const transient = attempts.filter((attempt) => attempt.error !== undefined && isTransient(attempt.error));
  const loaded = attempts.filter((attempt) => attempt.metadata !== undefined);
  if (transient.length > 0 || loaded.length === 0) {
    const reasons = (transient.length > 0 ? transient : attempts).map(
      (attempt) => `cannot load ${attempt.url}: ${describe(attempt.error)}`,
    );
    throw new UpstreamError(reasons.join('; '));
  }
  const metadata = mergeMetadata([attempts[0]!.metadata, attempts[1]!.metadata], options.overrides);
  const configuration = new client.Configuration(metadata, clientId, undefined, authentication);
  if (execute.length > 0) client.allowInsecureRequests(configuration);
  configuration.timeout = options.timeoutSeconds;
  return {
    configuration,
    metadata,
    documents: attempts.map((attempt) => (attempt.error ? `${attempt.url} (not used: ${describe(attempt.error)})` : attempt.url)),
  };
}

function isTransient(error: unknown): boolean {
  const response = (error as {cause?: unknown}).cause;
  if (response instanceof Response) return response.status >= 500;
  // openid-client's own refusals (an issuer that does not match, a body that is not metadata) carry a code.
  return typeof (error as {code?: unknown}).code !== 'string' || /TIMEOUT|ABORT|NETWORK/i.test(String((error as {code?: unknown}).code));
}

function describe(error: unknown): string {
  const cause = (error as {cause?: unknown}).cause;
  if (cause instanceof Response) return `HTTP ${cause.status}`;
  if (cause instanceof Error) return `${(error as Error).message} (${cause.message})`;
  return (error as Error).message;
}
