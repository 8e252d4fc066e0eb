import type {FastifyBaseLogger} from 'fastify';
import type {AccountBindings} from '../accounts/bindings.js';
import {requesterReader, RefusedAccountError} from '../accounts/requester.js';
import type {Holder} from '../holder.js';
import type {TokenServiceConfig} from '../config.js';
import {
  InvalidTokenError,
  NotATokenError,
  OverloadError,
  ProviderConfigurationError,
  UpstreamError,
  type AccessTokenVerifier,
} from '../oidc/verify-access-token.js';
import type {Requester} from '../policy/acl.js';
import type {Sessions} from '../sessions/sessions.js';
import {RefusedWorkloadError, type WorkloadAudit, type WorkloadTokens} from '../workloads/workload-tokens.js';
import {MISCONFIGURED, STORE_UNAVAILABLE, TokenRequestError} from './token-request.js';
import {quoted} from '@hub/common/quote';

/** What the caller of a token request is read with. */
export interface CallerDeps {
  config: Pick<TokenServiceConfig, 'oidc' | 'accounts' | 'registry'>;
  verifier: AccessTokenVerifier;
  /** Tokens of the workload issuers (CI jobs, pods): robots of their own, checked apart from people's. */
  workloads: WorkloadTokens;
  bindings: AccountBindings;
  /** Each verified access token re-checks its person's sign-in sessions. */
  sessions: Pick<Sessions, 'recheck'>;
  nowSeconds: () => number;
  logger: FastifyBaseLogger;
}

/**
 * Who an OIDC access token says the caller is, as the policy sees it: checked with the provider
 * (introspection takes turns by client address), read into an account (requester.ts), and that
 * account bound to this holder (bindings.ts). The token is proof that the provider still knows
 * the person, with these groups: their sign-in sessions are re-checked with it (sessions.ts).
 */
export type CallerResolver = (token: string, client: string) => Promise<Caller>;

export interface Caller {
  requester: Requester & {account: string};
  holder: Holder;
  notAfter: number;
  /** The provider's session id (the token's `sid`), when it names one: back-channel logout ends by it. */
  providerSession: string | undefined;
  /** A workload's token (workloads/): no sign-in session, no identity token. */
  workload?: WorkloadAudit;
}

export function callerResolver(deps: CallerDeps): CallerResolver {
  const requesterOf = requesterReader({
    issuer: deps.config.oidc.issuer,
    usernameClaim: deps.config.oidc.usernameClaim,
    groupsClaim: deps.config.oidc.groupsClaim,
    reservedNames: deps.config.accounts.reservedNames,
    robotClients: deps.config.accounts.robotClients,
  });
  // Once per access token, not per request: requesterOf answers with the same object for one token.
  const warnedGroups = new WeakSet<object>();
  return async (token, client) => {
    const issuer = deps.workloads.issuerOf(token);
    if (issuer !== undefined && issuer !== deps.config.oidc.issuer) return workloadCaller(deps, token, issuer);
    let who;
    let notAfter: number;
    let providerSession: string | undefined;
    try {
      const verified = await deps.verifier.verify(token, client);
      notAfter = verified.expiresAt;
      providerSession = typeof verified.claims.sid === 'string' ? verified.claims.sid : undefined;
      who = requesterOf(verified);
      if (who.ignoredGroups.length > 0 && !warnedGroups.has(who)) {
        warnedGroups.add(who);
        deps.logger.warn(
          {event: 'groups ignored', groups: who.ignoredGroups, subject: who.holder.subject},
          'groups that are not namespace names as they are grant nothing',
        );
      }
    } catch (error) {
      if (error instanceof ProviderConfigurationError) {
        throw new TokenRequestError(
          503,
          'server_error',
          `hub-auth cannot check this kind of access token: ${error.message}. This is the registry's setup, not your login: tell the registry's operator`,
          {
            outcome: MISCONFIGURED,
            operatorNote: {reason: error.message},
          },
        );
      }
      if (error instanceof UpstreamError) {
        throw new TokenRequestError(
          503,
          'temporarily_unavailable',
          'the identity provider cannot be reached to check the token; try again',
          {retryAfterSeconds: 5},
        );
      }
      if (error instanceof OverloadError) {
        throw new TokenRequestError(error.who === 'client' ? 429 : 503, 'temporarily_unavailable', error.message, {
          retryAfterSeconds: error.retryAfterSeconds,
          outcome: 'overloaded',
        });
      }
      if (error instanceof RefusedAccountError) throw new TokenRequestError(403, 'access_denied', error.message, {operatorNote: error.log});
      if (error instanceof NotATokenError) throw new TokenRequestError(401, 'invalid_grant', typedPassword(deps.config.registry.host));
      const why = error instanceof InvalidTokenError ? error.message : 'the token names no usable user';
      throw new TokenRequestError(401, 'invalid_grant', `${why}: log in again (hub login)`);
    }
    await checkBinding(deps, who.requester.account, who.holder);
    await recheckSessions(deps, who.holder, who.requester.groups);
    return {requester: who.requester, holder: who.holder, notAfter, providerSession};
  };
}

/** The operator's log event of a refused workload token. */
export const WORKLOAD_REFUSED = 'workload refused';

/**
 * A workload token's robot. Its name is under the issuer's own prefix, which no person, group or
 * client robot can be named (namespaces.ts), so it is bound to nobody: the issuer's template
 * alone decides it. A JWT from an issuer that is not listed is refused for what it is.
 */
async function workloadCaller(deps: CallerDeps, token: string, issuer: string): Promise<Caller> {
  if (!deps.workloads.lists(issuer))
    throw new TokenRequestError(
      401,
      'invalid_grant',
      `the token's issuer ${quoted(issuer)} is neither this registry's identity provider nor one of its workload issuers: log in again (hub login), or ask the registry's operator to list the issuer in workloads.issuers`,
    );
  try {
    const workload = await deps.workloads.check(token);
    return {...workload, providerSession: undefined};
  } catch (error) {
    if (error instanceof RefusedWorkloadError)
      throw new TokenRequestError(error.status, error.status === 401 ? 'invalid_grant' : 'access_denied', error.message, {
        operatorNote: {event: WORKLOAD_REFUSED, ...error.log},
      });
    if (error instanceof UpstreamError)
      throw new TokenRequestError(
        503,
        'temporarily_unavailable',
        `the workload issuer's keys cannot be fetched just now (${error.message}); try again`,
        {
          retryAfterSeconds: 5,
        },
      );
    throw error;
  }
}

/**
 * The answer to a password no provider issues, which the engine shows after `docker login`. Its
 * quotes are plain: docker wraps what it prints in backticks. Robots and CI are named too, since
 * their way in is a provider's access token as the password.
 */
function typedPassword(host: string): string {
  return (
    `docker login with a password is not how ${host} signs you in: run "hub login ${host}" ` +
    '(a robot or CI passes an access token from the identity provider as the password)'
  );
}

/**
 * A re-check that cannot be written costs this request nothing: the person's token is good, and a
 * session not re-checked only lapses sooner (never an allow that should not be).
 */
async function recheckSessions(deps: CallerDeps, holder: Holder, groups: readonly string[]): Promise<void> {
  try {
    await deps.sessions.recheck(holder, groups, deps.nowSeconds());
  } catch (error) {
    deps.logger.warn(
      {event: 'session recheck', subject: holder.subject, reason: (error as Error).message},
      'session re-check not recorded',
    );
  }
}

async function checkBinding(deps: Pick<CallerDeps, 'bindings'>, account: string, holder: Holder): Promise<void> {
  let mine: boolean;
  try {
    mine = await deps.bindings.claim(account, holder);
  } catch (error) {
    // The store is down or slow: nobody's name is decided until it answers, so never a wrong allow.
    throw new TokenRequestError(503, 'temporarily_unavailable', "the registry's list of accounts cannot be read just now; try again", {
      retryAfterSeconds: 5,
      outcome: STORE_UNAVAILABLE,
      operatorNote: {account, reason: `store: ${(error as Error).message}`, subject: holder.subject},
    });
  }
  if (mine) return;
  throw new TokenRequestError(
    403,
    'access_denied',
    `the account name ${quoted(account)} belongs to someone else on this registry: ask the registry's operator`,
    {operatorNote: {account, reason: 'bound to another subject (presented with access token)', subject: holder.subject}},
  );
}
