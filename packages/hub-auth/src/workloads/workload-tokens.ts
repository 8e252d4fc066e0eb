import {hash} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import {LRUCache} from 'lru-cache';
import {ConfigError, type TokenServiceConfig} from '../config.js';
import type {Holder} from '../holder.js';
import {WORKLOADS_NAMESPACE} from '../namespaces.js';
import {checkJwtSpelling, checkLength, InvalidTokenError} from '../oidc/access-token-checks.js';
import {lazyProviderMetadata} from '../oidc/provider-metadata.js';
import {UpstreamError, verificationFailure} from '../oidc/verify-access-token.js';
import type {Requester} from '../policy/acl.js';
import {claimAt, expandRobotTemplate, parseRobotTemplate, type RobotTemplate} from '../workload-claims.js';
import {quoted} from '@hub/common/quote';

/**
 * Tokens of trusted workload issuers: a CI job's OIDC token (GitHub Actions, GitLab CI) or a
 * pod's service-account token, presented where a person presents an access token. Each is
 * checked on its own (signature against the issuer's keys, iss, aud, exp, nbf and iat with a small
 * leeway, the required claims) and is a robot, `workloads/<issuer name>/<robot>`, named from its
 * claims by the issuer's template (workload-claims.ts). Nothing in the token chooses the prefix:
 * it names no person, group, client robot or other issuer's robot, and it gets no identity
 * token (http/routes/token.ts): it works for its own life and no longer.
 */

type IssuerConfig = TokenServiceConfig['workloads']['issuers'][number];

export interface WorkloadCaller {
  requester: Requester & {account: string};
  holder: Holder;
  notAfter: number;
  /** For the audit line: the issuer and the claims that decided (never the token). */
  workload: WorkloadAudit;
}

export interface WorkloadAudit {
  issuer: string;
  claims: Record<string, string>;
}

/** A workload token refused: the message names the claim and why, never the token. */
export class RefusedWorkloadError extends Error {
  override name = 'RefusedWorkloadError';

  constructor(
    message: string,
    /** 401: not a good token; 403: a good token this registry gives nothing. */
    readonly status: 401 | 403,
    readonly log: Record<string, string>,
  ) {
    super(message);
  }
}

export interface WorkloadTokens {
  /** The `iss` a JWT names, read before any check (only to choose who checks it), or undefined. */
  issuerOf(token: string): string | undefined;
  /** Whether `issuer` is a listed workload issuer. */
  lists(issuer: string): boolean;
  check(token: string): Promise<WorkloadCaller>;
}

interface Issuer {
  config: IssuerConfig;
  template: RobotTemplate;
  keys: () => Promise<JWTVerifyGetKey>;
}

export interface WorkloadOptions {
  timeoutSeconds: number;
  cacheSize: number;
  nowSeconds: () => number;
}

/** Builds the checks of every listed issuer; a jwksFile is read now, so that a bad one stops the start. */
export async function workloadTokens(issuers: readonly IssuerConfig[], options: WorkloadOptions): Promise<WorkloadTokens> {
  const byIssuer = new Map<string, Issuer>();
  for (const config of issuers)
    byIssuer.set(config.issuer, {config, template: parseRobotTemplate(config.robot), keys: await keySource(config, options)});
  // One check per token until it expires: a push asks for dozens of registry tokens with it.
  const checked = new LRUCache<string, WorkloadCaller>({max: Math.max(options.cacheSize, 1)});
  function issuerOf(token: string): string | undefined {
    if (byIssuer.size === 0 || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) return undefined;
    try {
      const {iss} = decodeJwt(token);
      return typeof iss === 'string' ? iss : undefined;
    } catch {
      return undefined;
    }
  }
  return {
    issuerOf,
    lists: (issuer) => byIssuer.has(issuer),
    async check(token) {
      checkLength(token);
      const key = hash('sha256', token, 'base64url');
      const now = options.nowSeconds();
      const cached = checked.get(key);
      if (cached && cached.notAfter > now) return cached;
      const issuer = byIssuer.get(issuerOf(token) ?? '');
      if (!issuer) throw new RefusedWorkloadError('the token names no workload issuer of this registry', 401, {reason: 'no listed iss'});
      const caller = await checkWith(issuer, token, now);
      checked.set(key, caller, {ttl: Math.max(caller.notAfter - now, 1) * 1000});
      return caller;
    },
  };
}

async function checkWith({config, template, keys}: Issuer, token: string, now: number): Promise<WorkloadCaller> {
  const refuse = (message: string, status: 401 | 403, log: Record<string, string>) =>
    new RefusedWorkloadError(message, status, {issuer: config.issuer, ...log});
  let payload: JWTPayload;
  try {
    checkJwtSpelling(token);
    ({payload} = await jwtVerify(token, await keys(), {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: config.algorithms,
      clockTolerance: config.clockSkewSeconds,
      currentDate: new Date(now * 1000),
      requiredClaims: ['exp'],
    }));
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    let why = error instanceof InvalidTokenError ? error.message : timeOrAudienceProblem(error, token, config);
    if (why === undefined) {
      const failure = verificationFailure(error);
      if (failure instanceof UpstreamError) throw failure;
      why = failure.message;
    }
    throw refuse(why, 401, {reason: why});
  }
  const iat = typeof payload.iat === 'number' ? payload.iat : undefined;
  if (iat !== undefined && iat > now + config.clockSkewSeconds)
    throw refuse('the token was issued in the future (iat)', 401, {reason: 'iat in the future'});
  if (payload.exp! - (iat ?? now) > config.maxLifetimeSeconds) {
    const why = `the token lives longer than the ${config.maxLifetimeSeconds} seconds this registry accepts of ${config.name} tokens`;
    throw refuse(why, 401, {reason: why});
  }
  const claims = payload as Record<string, unknown>;
  const decided: Record<string, string> = {};
  for (const [claim, required] of Object.entries(config.requiredClaims)) {
    const value = claimAt(claims, claim);
    if (value !== required) {
      const found = typeof value === 'string' ? `is ${quoted(value)}` : value === undefined ? 'is missing' : 'is not text';
      throw refuse(`the token's ${claim} ${found}, this registry requires ${quoted(required)}`, 403, {
        claim,
        reason: `${found}, required ${required}`,
      });
    }
    decided[claim] = value;
  }
  const robot = expandRobotTemplate(template, claims);
  if (!('name' in robot)) {
    const what = typeof robot.value === 'string' ? ` ${quoted(robot.value)}` : '';
    throw refuse(
      `the token's ${robot.claim}${what} ${robot.problem}, so it names no robot on this registry (robot ${quoted(config.robot)} of workload issuer ${config.name})`,
      403,
      {claim: robot.claim, reason: robot.problem},
    );
  }
  for (const part of template.parts) if ('claim' in part) decided[part.claim] = claimAt(claims, part.claim) as string;
  return {
    requester: {account: `${WORKLOADS_NAMESPACE}/${config.name}/${robot.name}`, groups: []},
    holder: {issuer: config.issuer, subject: typeof payload.sub === 'string' ? payload.sub : robot.name},
    notAfter: payload.exp!,
    workload: {issuer: config.issuer, claims: decided},
  };
}

/** What jose's refusal of a time or audience claim means, in the words a job's log should show. */
function timeOrAudienceProblem(error: unknown, token: string, config: IssuerConfig): string | undefined {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (!(error instanceof joseErrors.JWTClaimValidationFailed)) return undefined;
  if (error.claim === 'nbf') return 'the token is not valid yet (nbf)';
  if (error.claim !== 'aud') return undefined;
  const aud = decodeJwt(token).aud;
  const named =
    aud === undefined
      ? 'names no audience'
      : `is for ${[aud]
          .flat()
          .map((one) => quoted(String(one)))
          .join(', ')}`;
  return `the token ${named}, this registry accepts ${config.audience.map((one) => quoted(one)).join(' or ')} (ask the platform for a token with that audience)`;
}

/** The issuer's keys: a file read once, a JWKS URL, or its discovery's jwks_uri (fetched on first use). */
async function keySource(config: IssuerConfig, options: WorkloadOptions): Promise<() => Promise<JWTVerifyGetKey>> {
  if (config.jwksFile) {
    let keys: JWTVerifyGetKey;
    try {
      keys = createLocalJWKSet(JSON.parse(await readFile(config.jwksFile, 'utf8')));
    } catch (error) {
      throw new ConfigError(
        `workloads.issuers (${config.name}): jwksFile ${config.jwksFile} is not a readable JWKS document: ${(error as Error).message}`,
      );
    }
    return async () => keys;
  }
  const remote = (uri: string) =>
    createRemoteJWKSet(new URL(uri), {timeoutDuration: options.timeoutSeconds * 1000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000});
  if (config.jwksUrl) {
    const keys = remote(config.jwksUrl);
    return async () => keys;
  }
  const metadata = lazyProviderMetadata({issuer: config.issuer, overrides: {}, timeoutSeconds: options.timeoutSeconds});
  let keys: JWTVerifyGetKey | undefined;
  return async () => {
    if (keys) return keys;
    const uri = (await metadata()).metadata.jwks_uri;
    if (!uri) throw new UpstreamError(`workload issuer ${config.issuer} publishes no jwks_uri`);
    keys = remote(uri);
    return keys;
  };
}
