import {hash} from 'node:crypto';
import {createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload} from 'jose';
import {LRUCache} from 'lru-cache';
import {fetch} from 'undici';

/**
 * Checks the OIDC access token a user (or docker, through hub's credential helper) presents:
 * JWTs locally against the issuer's keys, opaque tokens by RFC 7662 introspection. A checked
 * token is remembered by its hash until it expires, so a push that asks for dozens of registry
 * tokens costs one check.
 */

export interface VerifiedClaims {
  subject: string;
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

/** The identity provider could not be asked (down, slow, broken): not the user's fault. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

export interface VerifierOptions {
  issuer: string;
  audience: string[];
  algorithms: string[];
  clockSkewSeconds: number;
  jwksUri?: string;
  introspection?: {clientId: string; clientSecret: string; allowMissingAudience: boolean; acceptedClientIds?: string[]};
  timeoutSeconds: number;
  cacheSize: number;
  nowSeconds?: () => number;
  /** Bounds on calls to the provider (introspection); defaults suit one instance. */
  upstream?: UpstreamLimits;
  /** Told how each check was answered, for the metrics. */
  onCheck?: (method: 'cache' | 'jwt' | 'introspection') => void;
}

export interface AccessTokenVerifier {
  verify(token: string): Promise<VerifiedClaims>;
  /** Resolves once the provider's metadata is loaded. */
  ready(): Promise<void>;
}

interface ProviderMetadata {
  jwks_uri?: string;
  introspection_endpoint?: string;
}

export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  const now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const cache = new LRUCache<string, VerifiedClaims>({max: Math.max(options.cacheSize, 1)});
  const inFlight = new Map<string, Promise<VerifiedClaims>>();
  // A token found bad stays bad: asking again would let a flood of one bad token reach the provider.
  const rejected = new LRUCache<string, InvalidTokenError>({max: Math.max(options.cacheSize, 1), ttl: REJECTION_TTL_MS});
  const upstream = upstreamGuard(options.upstream ?? DEFAULT_UPSTREAM_LIMITS);
  const metadata = lazyProviderMetadata(options.issuer, options.timeoutSeconds);
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  async function keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (!jwks) {
      const uri = options.jwksUri ?? (await metadata()).jwks_uri;
      if (!uri) throw new UpstreamError(`${options.issuer} publishes no jwks_uri`);
      // Unknown kid → one refetch (at most every 30 s): key rotation at the provider just works.
      jwks = createRemoteJWKSet(new URL(uri), {timeoutDuration: options.timeoutSeconds * 1000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000});
    }
    return jwks;
  }

  async function verifyJwt(token: string): Promise<VerifiedClaims> {
    let payload: JWTPayload;
    try {
      ({payload} = await jwtVerify(token, await keySet(), {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: options.algorithms,
        clockTolerance: options.clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || isNetworkError(error)) {
        throw new UpstreamError(`cannot fetch the identity provider's keys: ${(error as Error).message}`);
      }
      throw new InvalidTokenError(describeJoseError(error), !(error instanceof joseErrors.JWKSNoMatchingKey));
    }
    return {subject: payload.sub!, claims: payload as Record<string, unknown>, expiresAt: payload.exp!};
  }

  async function introspect(token: string): Promise<VerifiedClaims> {
    const introspection = options.introspection;
    if (!introspection) throw new InvalidTokenError('not a JWT, and opaque tokens are not accepted (no introspection configured)');
    const endpoint = (await metadata()).introspection_endpoint;
    if (!endpoint) throw new UpstreamError(`${options.issuer} has no introspection endpoint`);
    const body = await upstream.run(() => callIntrospection(endpoint, introspection, token));
    return checkIntrospection(body, introspection);
  }

  async function callIntrospection(endpoint: string, introspection: NonNullable<VerifierOptions['introspection']>, token: string): Promise<Record<string, unknown>> {
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(introspection.clientId)}:${encodeURIComponent(introspection.clientSecret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({token, token_type_hint: 'access_token'}).toString(),
        signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
      });
      if (!response.ok) throw new UpstreamError(`introspection answered HTTP ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError(`introspection failed: ${(error as Error).message}`);
    }
  }

  function checkIntrospection(body: Record<string, unknown>, introspection: NonNullable<VerifierOptions['introspection']>): VerifiedClaims {
    if (body.active !== true) throw new InvalidTokenError('the identity provider says the token is not active');
    const exp = typeof body.exp === 'number' ? body.exp : undefined;
    if (exp === undefined || exp + options.clockSkewSeconds < now()) throw new InvalidTokenError('the token has expired');
    if (body.iss !== undefined && body.iss !== options.issuer) throw new InvalidTokenError('the token is from another issuer');
    const audiences = Array.isArray(body.aud) ? body.aud : body.aud === undefined ? [] : [body.aud];
    // A token asked for another registry must not pass on its client id alone (issue #11, item 2).
    const forUs =
      audiences.length > 0
        ? audiences.some((aud) => options.audience.includes(String(aud)))
        : introspection.allowMissingAudience && (introspection.acceptedClientIds ?? []).includes(String(body.client_id));
    if (!forUs) throw new InvalidTokenError(audiences.length > 0 ? 'the token was issued for another audience' : 'the identity provider names no audience for the token');
    if (typeof body.sub !== 'string' || !body.sub) throw new InvalidTokenError('the token names no subject');
    return {subject: body.sub, claims: body, expiresAt: exp};
  }

  async function verifyUncached(token: string): Promise<VerifiedClaims> {
    const method = looksLikeJwt(token) ? 'jwt' : 'introspection';
    options.onCheck?.(method);
    return method === 'jwt' ? verifyJwt(token) : introspect(token);
  }

  return {
    async ready() {
      await metadata();
    },
    async verify(token) {
      if (token.length > 16_384) throw new InvalidTokenError('the token is too long');
      // One-shot hashing: a Hash object per request costs more than the digest itself.
      const key = hash('sha256', token, 'base64url');
      const cached = cache.get(key);
      if (cached && cached.expiresAt + options.clockSkewSeconds >= now()) {
        options.onCheck?.('cache');
        return cached;
      }
      const refused = rejected.get(key);
      if (refused) throw refused;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = verifyUncached(token).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      let verified: VerifiedClaims;
      try {
        verified = await pending;
      } catch (error) {
        if (error instanceof InvalidTokenError && error.final) rejected.set(key, error);
        throw error;
      }
      const ttlMs = (verified.expiresAt - now()) * 1000;
      if (ttlMs > 0) cache.set(key, verified, {ttl: ttlMs});
      return verified;
    },
  };
}

const REJECTION_TTL_MS = 60_000;

export interface UpstreamLimits {
  /** Introspection calls under way at once; more fail fast rather than queue. */
  maxConcurrent: number;
  /** After a failed call, how long further calls fail fast without reaching the provider. */
  cooldownMs: number;
}

const DEFAULT_UPSTREAM_LIMITS: UpstreamLimits = {maxConcurrent: 32, cooldownMs: 2000};

/**
 * Keeps a failing or overloaded provider from being hammered: a bounded number of calls at once,
 * and a short pause after a failure during which calls fail at once (closed: no token passes).
 */
function upstreamGuard(limits: UpstreamLimits) {
  let running = 0;
  let pausedUntil = 0;
  return {
    async run<T>(call: () => Promise<T>): Promise<T> {
      if (Date.now() < pausedUntil) throw new UpstreamError('the identity provider failed just now; not asking again yet');
      if (running >= limits.maxConcurrent) throw new UpstreamError('too many checks already waiting for the identity provider');
      running++;
      try {
        return await call();
      } catch (error) {
        if (error instanceof UpstreamError) pausedUntil = Date.now() + limits.cooldownMs;
        throw error;
      } finally {
        running--;
      }
    },
  };
}

function looksLikeJwt(token: string): boolean {
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) return false;
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

/** Discovery, fetched on first use and again after a failure. */
function lazyProviderMetadata(issuer: string, timeoutSeconds: number): () => Promise<ProviderMetadata> {
  let loaded: Promise<ProviderMetadata> | undefined;
  return () => {
    loaded ??= (async () => {
      const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      try {
        const response = await fetch(url, {signal: AbortSignal.timeout(timeoutSeconds * 1000), headers: {accept: 'application/json'}});
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const document = (await response.json()) as ProviderMetadata & {issuer?: string};
        if (document.issuer !== issuer) throw new Error(`it names issuer ${JSON.stringify(document.issuer)}`);
        return document;
      } catch (error) {
        loaded = undefined;
        throw new UpstreamError(`cannot load ${url}: ${(error as Error).message}`);
      }
    })();
    return loaded;
  };
}

function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof Error && /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(error.message));
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not acceptable`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token is signed by a key the identity provider does not publish';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  return 'the token is not a valid JWT';
}
