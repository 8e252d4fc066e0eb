import {hash} from 'node:crypto';
import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type ProtectedHeaderParameters,
  type RemoteJWKSet,
} from 'jose';
import {LRUCache} from 'lru-cache';
import * as client from 'openid-client';
import {DEFAULT_GATE_LIMITS, introspectionGate, OverloadError, UpstreamError, type GateLimits} from './introspection-gate.js';
import {lazyProviderMetadata, ProviderConfigurationError, type EndpointOverrides, type ProviderMetadata} from './provider-metadata.js';
import {
  checkedIntrospection,
  checkedJwt,
  checkedUserInfo,
  checkJwtSpelling,
  checkLength,
  checkOpaqueShape,
  InvalidTokenError,
  isJwtShaped,
  NotATokenError,
  type VerifiedClaims,
} from './access-token-checks.js';
import {passedOn, QUOTED_LENGTH} from '@hub/common/quote';
import {isTransientNetworkError} from '@hub/common/errors';
import {sharedRuns} from '../in-flight.js';

export {InvalidTokenError, NotATokenError, OverloadError, ProviderConfigurationError, UpstreamError};
export type {VerifiedClaims};

/**
 * Checks the OIDC access token a user (or docker, through hub's credential helper) presents:
 * JWTs locally against the issuer's keys, opaque tokens by RFC 7662 introspection (or, where the
 * provider offers none and the operator opted in, its UserInfo endpoint). A checked
 * token is remembered by its hash until it expires, so a push that asks for dozens of registry
 * tokens costs one check. What the provider says about an opaque token is trusted for a short
 * while only (`cacheActiveSeconds`): a token revoked there must stop working here soon after.
 * What a token is checked for, and in which order, is access-token-checks.ts: here are the calls
 * that fetch what those checks read, and the caches in front of them.
 */

export interface VerifierOptions {
  issuer: string;
  audience: string[];
  algorithms: string[];
  clockSkewSeconds: number;
  /** The operator's endpoints, over what discovery finds. */
  endpoints?: EndpointOverrides;
  introspection?: {
    clientId: string;
    clientSecret: string;
    allowMissingAudience: boolean;
    acceptedClientIds?: string[];
    /** How long an `active` answer is trusted before the provider is asked again. */
    cacheActiveSeconds: number;
    /** Refuse answers that do not say the token is an access token (token_type, typ, token_use). */
    requireTokenType: boolean;
  };
  /** Opaque tokens checked by calling UserInfo with them, for providers without introspection. */
  userinfo?: {cacheActiveSeconds: number};
  timeoutSeconds: number;
  cacheSize: number;
  nowSeconds?: () => number;
  /** Bounds on calls to the provider (introspection); defaults suit one instance. */
  upstream?: Partial<GateLimits>;
  /** Told how each check was answered, for the metrics. */
  onCheck?: (method: 'cache' | 'jwt' | 'introspection' | 'userinfo') => void;
}

export interface AccessTokenVerifier {
  /** `client`: the address the token came from, whose turn it is to have it introspected. */
  verify(token: string, client: string): Promise<VerifiedClaims>;
  /** Resolves once the provider's metadata, and its keys if it publishes any, have been loaded. */
  ready(): Promise<void>;
  /** The provider's signing keys (its jwks_uri, refetched for a key id it does not know yet): what its logout tokens are checked with too. */
  providerKeys(): Promise<RemoteJWKSet>;
}

export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  const now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const cache = new LRUCache<string, VerifiedClaims>({max: Math.max(options.cacheSize, 1)});
  const checking = sharedRuns<string, {verified: VerifiedClaims; trustUntil: number}>();
  // A token found bad stays bad: asking again would let a flood of one bad token reach the provider.
  const rejected = new LRUCache<string, InvalidTokenError>({max: Math.max(options.cacheSize, 1), ttl: REJECTION_TTL_MS});
  const upstream = introspectionGate({...DEFAULT_GATE_LIMITS, maxWaitMs: options.timeoutSeconds * 1000, ...options.upstream});
  const endpoints = options.endpoints ?? {};
  const metadata = lazyProviderMetadata({
    issuer: options.issuer,
    overrides: endpoints,
    timeoutSeconds: options.timeoutSeconds,
    client: options.introspection && {id: options.introspection.clientId, secret: options.introspection.clientSecret},
  });
  const introspection = options.introspection && {
    issuer: options.issuer,
    audience: options.audience,
    clockSkewSeconds: options.clockSkewSeconds,
    requireTokenType: options.introspection.requireTokenType,
    allowMissingAudience: options.introspection.allowMissingAudience,
    acceptedClientIds: options.introspection.acceptedClientIds ?? [],
  };
  let jwks: RemoteJWKSet | undefined;
  let keysLoaded = false;

  async function keySet(): Promise<RemoteJWKSet> {
    if (!jwks) {
      const uri = (await metadata()).metadata.jwks_uri;
      if (!uri) throw new UpstreamError(`${options.issuer} publishes no jwks_uri`);
      // Unknown kid → one refetch (at most every 30 s): key rotation at the provider just works.
      jwks = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: options.timeoutSeconds * 1000,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
    }
    return jwks;
  }

  async function verifyJwt(token: string): Promise<VerifiedClaims> {
    checkJwtSpelling(token);
    let payload: JWTPayload;
    let header: ProtectedHeaderParameters;
    try {
      ({payload, protectedHeader: header} = await jwtVerify(token, await keySet(), {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: options.algorithms,
        clockTolerance: options.clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw verificationFailure(error);
    }
    return checkedJwt({header, payload});
  }

  async function checkOpaque(token: string, client: string): Promise<VerifiedClaims> {
    const provider = await metadata();
    const check = opaqueCheck(options, provider);
    if (!check) throw new InvalidTokenError('not a JWT, and opaque tokens are not accepted (no introspection configured)');
    options.onCheck?.(check.kind);
    if (check.kind === 'userinfo') {
      const claims = await upstream.run(client, () => callUserInfo(provider.configuration, token));
      return checkedUserInfo(claims, now() + options.userinfo!.cacheActiveSeconds);
    }
    const body = await upstream.run(client, () => callIntrospection(provider.configuration, token));
    return checkedIntrospection(body, {...introspection!, nowSeconds: now()});
  }

  /** The claims, and until when (seconds since the epoch) they may be answered from the cache. */
  async function verifyUncached(token: string, client: string): Promise<{verified: VerifiedClaims; trustUntil: number}> {
    if (isJwtShaped(token)) {
      options.onCheck?.('jwt');
      // A JWT is as good as its signature until it expires: asking again would find the same.
      const verified = await verifyJwt(token);
      return {verified, trustUntil: verified.expiresAt};
    }
    checkOpaqueShape(token);
    const verified = await checkOpaque(token, client);
    // Revocation at the provider shows only in its answer: ask again after a short while.
    const trusted = options.userinfo?.cacheActiveSeconds ?? options.introspection?.cacheActiveSeconds ?? 0;
    return {verified, trustUntil: Math.min(verified.expiresAt, now() + trusted)};
  }

  return {
    providerKeys: keySet,
    async ready() {
      const provider = await metadata();
      // Not ready while opaque tokens cannot be checked: every such request would fail.
      opaqueCheck(options, provider);
      const uri = provider.metadata.jwks_uri;
      // Until the keys have been fetched once no JWT can be checked; after that the cached keys
      // carry over an outage of the provider, which readiness then does not report.
      if (keysLoaded || !uri) return;
      try {
        await (await keySet()).reload();
      } catch (error) {
        throw new UpstreamError(`cannot load ${uri}: ${(error as Error).message}`);
      }
      keysLoaded = true;
    },
    async verify(token, client) {
      checkLength(token);
      // One-shot hashing: a Hash object per request costs more than the digest itself.
      const key = hash('sha256', token, 'base64url');
      const cached = cache.get(key);
      if (cached && cached.expiresAt + options.clockSkewSeconds >= now()) {
        options.onCheck?.('cache');
        return cached;
      }
      const refused = rejected.get(key);
      if (refused) throw refused;
      let checked: {verified: VerifiedClaims; trustUntil: number};
      try {
        checked = await checking(key, () => verifyUncached(token, client));
      } catch (error) {
        if (error instanceof InvalidTokenError && error.final) rejected.set(key, error);
        throw error;
      }
      const ttlMs = (checked.trustUntil - now()) * 1000;
      if (ttlMs > 0) cache.set(key, checked.verified, {ttl: ttlMs});
      return checked.verified;
    },
  };
}

const REJECTION_TTL_MS = 60_000;

/**
 * How opaque tokens are checked, or why they cannot be: a provider that publishes no endpoint
 * for the configured way is a configuration problem, not an outage, and is said as one.
 */
function opaqueCheck(
  options: VerifierOptions,
  provider: ProviderMetadata,
): {kind: 'introspection' | 'userinfo'; endpoint: string} | undefined {
  const kind = options.userinfo ? 'userinfo' : options.introspection ? 'introspection' : undefined;
  if (!kind) return undefined;
  const endpoint = kind === 'userinfo' ? provider.metadata.userinfo_endpoint : provider.metadata.introspection_endpoint;
  if (endpoint) return {kind, endpoint};
  const field = kind === 'userinfo' ? 'userinfo_endpoint' : 'introspection_endpoint';
  throw new ProviderConfigurationError(
    `opaque access tokens cannot be checked: oidc.${kind} is configured, but ${options.issuer} publishes no ${field} (looked in ${provider.documents.join(' and ')}); ` +
      `set oidc.endpoints.${kind} to the provider's ${kind} endpoint${kind === 'introspection' ? ', or remove oidc.introspection if the provider issues JWT access tokens only' : ''}`,
  );
}

// openid-client, not a hand-made request: these calls leave for the network anyway, and the
// cache in front of them (verify) is what keeps a push's dozens of token requests fast.
async function callIntrospection(configuration: client.Configuration, token: string): Promise<Record<string, unknown>> {
  try {
    return {...(await client.tokenIntrospection(configuration, token, {token_type_hint: 'access_token'}))};
  } catch (error) {
    throw new UpstreamError(`introspection failed: ${describeOAuthFailure(error)}`);
  }
}

/**
 * UserInfo answers for a token it accepts, with the user's claims: that proves the token is
 * current and whose it is, but not for whom it was issued (see SECURITY.md). It has no expiry:
 * the answer is trusted for cacheActiveSeconds, then the provider is asked again.
 */
async function callUserInfo(configuration: client.Configuration, token: string): Promise<Record<string, unknown>> {
  try {
    return {...(await client.fetchUserInfo(configuration, token, client.skipSubjectCheck))};
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === 401 || status === 403)
      throw new InvalidTokenError('the identity provider does not accept the token (UserInfo refused it)');
    throw new UpstreamError(`UserInfo failed: ${describeOAuthFailure(error)}`);
  }
}

/** What jose's refusal of a signed token means: the provider's keys out of reach (UpstreamError), or a bad token. */
export function verificationFailure(error: unknown): UpstreamError | InvalidTokenError {
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || isTransientNetworkError(error)) {
    return new UpstreamError(`cannot fetch the identity provider's keys: ${(error as Error).message}`);
  }
  return new InvalidTokenError(describeJoseError(error), !(error instanceof joseErrors.JWKSNoMatchingKey));
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not acceptable`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token is signed by a key the identity provider does not publish';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  return 'the token is not a valid JWT';
}

function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof client.ResponseBodyError || error instanceof client.WWWAuthenticateChallengeError) return error.status;
  const cause = (error as {cause?: unknown}).cause;
  return cause instanceof Response ? cause.status : undefined;
}

function describeOAuthFailure(error: unknown): string {
  const status = httpStatusOf(error);
  if (error instanceof client.ResponseBodyError)
    return `HTTP ${error.status} ${passedOn(error.error, QUOTED_LENGTH)}${error.error_description ? ` (${passedOn(error.error_description)})` : ''}`;
  if (status !== undefined) return `HTTP ${status}`;
  const cause = (error as {cause?: unknown}).cause;
  return cause instanceof Error ? `${(error as Error).message} (${cause.message})` : (error as Error).message;
}
