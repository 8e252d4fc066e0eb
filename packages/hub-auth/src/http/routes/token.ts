import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import {formatScope} from '../../tokens/scope.js';
import {issueRegistryToken} from '../../tokens/issue-token.js';
import {identityReader, RefusedIdentityError, type Holder} from '../../accounts/identity.js';
import type {Requester} from '../../policy/acl.js';
import {readRefreshToken} from '../../tokens/refresh-token.js';
import {InvalidTokenError, OverloadError, ProviderConfigurationError, UpstreamError} from '../../oidc/verify-access-token.js';
import type {TokenServiceDeps} from '../app.js';

/**
 * The token endpoint of the Docker registry token-auth spec: GET with Basic credentials (the
 * password is the user's OIDC access token) or none, and the OAuth2 POST form docker uses with
 * an identity token (grant_type=refresh_token) or a password.
 */

type Grant = 'anonymous' | 'password' | 'refresh_token';

const OUTCOMES = {400: 'bad_request', 401: 'unauthorized', 403: 'denied', 429: 'overloaded', 503: 'upstream_error'} as const;

/**
 * Everyone without credentials is the same requester: one object, so that the policy's answers
 * for it are remembered (rememberingDecider) like anyone else's, as a public image's pulls repeat.
 */
const ANONYMOUS: Requester = Object.freeze({groups: Object.freeze([])});

/** hub-auth's configuration does not fit the provider: a 503 that no retry cures. */
const MISCONFIGURED = 'misconfigured';

export class TokenRequestError extends Error {
  readonly retryAfterSeconds?: number;
  /** For the metrics and the log: a 503 is the provider's failure or hub-auth's own load. */
  readonly outcome: string;
  /** For a refused account: a warning for the operator, with the claim and the reason. */
  readonly operatorNote?: Record<string, string>;

  constructor(
    readonly status: 400 | 401 | 403 | 429 | 503,
    readonly oauthError: string,
    message: string,
    /** retryAfterSeconds: for 429 and 503, when to ask again. */
    details: {retryAfterSeconds?: number; outcome?: string; operatorNote?: Record<string, string>} = {},
  ) {
    super(message);
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.outcome = details.outcome ?? OUTCOMES[status];
    this.operatorNote = details.operatorNote;
  }
}

type Query = Record<string, string | string[] | undefined>;

/**
 * What a granted request is answered with (TokenResponse), for fastify's compiled serializer:
 * the token is in the answer twice, and scanning it for characters to escape costs more than all
 * of the rest of the answer. Tokens are JWS compact serializations we signed, base64url parts
 * joined by '.', with nothing to escape, so they are written as they are ('unsafe').
 */
const jws = {type: 'string', format: 'unsafe'};
const tokenAnswer = {
  response: {
    200: {
      type: 'object',
      properties: {
        token: jws,
        access_token: jws,
        expires_in: {type: 'integer'},
        issued_at: {type: 'string'},
        refresh_token: jws,
      },
      required: ['token', 'access_token', 'expires_in', 'issued_at'],
    },
  },
};

export function registerTokenRoutes(app: FastifyInstance, deps: TokenServiceDeps): void {
  const {callerOf: requesterForAccessToken, parseScopes} = deps;

  app.get('/token', {schema: tokenAnswer}, (request, reply) =>
    answer(request, reply, 'registry', async () => {
      const query = textFields(request.query, 'query parameter');
      checkService(query, deps);
      const token = credentialsFrom(request.headers.authorization);
      const caller = token === undefined ? {requester: ANONYMOUS} : await requesterForAccessToken(token, request.ip);
      return {
        grant: token === undefined ? 'anonymous' : 'password',
        ...caller,
        scopes: parseScopes(all(query.scope)),
        offline: first(query.offline_token) === 'true',
      };
    }),
  );

  app.post('/token', {schema: tokenAnswer}, (request, reply) =>
    answer(request, reply, 'oauth', async () => {
      const form = textFields(request.body ?? {}, 'form field');
      checkService(form, deps);
      const grantType = first(form.grant_type);
      const scopes = parseScopes(all(form.scope));
      const offline = first(form.access_type) === 'offline';
      if (grantType === 'password') {
        const password = first(form.password);
        if (!password) throw new TokenRequestError(400, 'invalid_request', 'password (the OIDC access token) is missing');
        return {grant: 'password', ...(await requesterForAccessToken(password, request.ip)), scopes, offline};
      }
      if (grantType === 'refresh_token') {
        const identity = readRefreshToken(first(form.refresh_token) ?? '', deps.verificationKeys, {
          issuer: deps.config.issuer,
          service: deps.config.service,
          nowSeconds: deps.nowSeconds(),
        });
        if (!identity)
          throw new TokenRequestError(400, 'invalid_grant', 'the refresh token is not valid or has expired: log in again (hub login)');
        await checkBinding(deps, identity.account, identity.holder, 'refresh token');
        return {grant: 'refresh_token', requester: {account: identity.account, groups: identity.groups}, scopes, offline: false};
      }
      throw new TokenRequestError(
        400,
        'unsupported_grant_type',
        `grant_type ${JSON.stringify(grantType ?? '')} is not supported: use password or refresh_token`,
      );
    }),
  );

  async function answer(
    request: FastifyRequest,
    reply: FastifyReply,
    style: 'registry' | 'oauth',
    understand: () => Promise<{grant: Grant; requester: Requester; holder?: Holder; scopes: readonly ResourceScope[]; offline: boolean}>,
  ): Promise<unknown> {
    const started = performance.now();
    let grant: Grant | 'unknown' = 'unknown';
    try {
      const understood = await understand();
      grant = understood.grant;
      const {response, access} = issueRegistryToken(deps, understood);
      request.log.info(
        decisionLine(grant, understood.requester, understood.scopes, access, response.refresh_token !== undefined),
        'token issued',
      );
      deps.metrics.requests.inc(grant, 'issued');
      return reply.header('cache-control', 'no-store').send(response);
    } catch (error) {
      if (!(error instanceof TokenRequestError)) throw error;
      const {outcome} = error;
      deps.metrics.requests.inc(grant, outcome);
      if (outcome === MISCONFIGURED)
        request.log.error(
          {event: 'token', grant, outcome, reason: error.operatorNote?.reason},
          "token refused: hub-auth's configuration does not fit the identity provider",
        );
      else if (error.operatorNote) logRefusedAccount(request, error.operatorNote);
      else request.log.info({event: 'token', grant, outcome, reason: error.message}, 'token refused');
      if (error.status === 401) reply.header('www-authenticate', `Basic realm="${deps.config.issuer}", charset="UTF-8"`);
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      reply.code(error.status).header('cache-control', 'no-store');
      return style === 'oauth'
        ? reply.send({error: error.oauthError, error_description: error.message})
        : reply.send(registryErrorBody(error));
    } finally {
      deps.metrics.duration.observe(grant, (performance.now() - started) / 1000);
    }
  }
}

/** distribution's error codes, which docker shows. */
const REGISTRY_ERROR_CODES = {400: 'DENIED', 401: 'UNAUTHORIZED', 403: 'DENIED', 429: 'TOOMANYREQUESTS', 503: 'UNAVAILABLE'} as const;

/**
 * Who got what: the audit line of a granted request. What was asked is there only when it differs
 * from what was granted (something was denied, or malformed): the line is written for every
 * request, and the same list twice would be most of it.
 */
function decisionLine(
  grant: Grant,
  requester: Requester,
  scopes: readonly ResourceScope[],
  access: readonly ResourceScope[],
  refresh: boolean,
) {
  const granted = access.map(formatScope);
  const requested = scopes.map(formatScope);
  const differs = requested.length !== granted.length || requested.some((scope, index) => scope !== granted[index]);
  return {event: 'token', grant, account: requester.account ?? null, granted, ...(differs ? {requested} : {}), refresh};
}

/**
 * Who an OIDC access token says the caller is, as the policy sees it: checked with the provider
 * (introspection takes turns by client address), read into an account (identity.ts), and that
 * account bound to this identity (bindings.ts).
 */
export type CallerResolver = (token: string, client: string) => Promise<{requester: Requester & {account: string}; holder: Holder}>;

export function callerResolver(deps: Omit<TokenServiceDeps, 'callerOf'>): CallerResolver {
  const identityOf = identityReader({
    issuer: deps.config.oidc.issuer,
    usernameClaim: deps.config.oidc.usernameClaim,
    groupsClaim: deps.config.oidc.groupsClaim,
    reservedNames: deps.config.accounts.reservedNames,
  });
  // Once per access token, not per request: identityOf answers with the same object for one token.
  const warnedGroups = new WeakSet<object>();
  return async (token, client) => {
    let identity;
    try {
      identity = identityOf(await deps.verifier.verify(token, client));
      if (identity.ignoredGroups.length > 0 && !warnedGroups.has(identity)) {
        warnedGroups.add(identity);
        deps.logger.warn(
          {event: 'groups ignored', groups: identity.ignoredGroups, subject: identity.holder.subject},
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
      if (error instanceof RefusedIdentityError)
        throw new TokenRequestError(403, 'access_denied', error.message, {operatorNote: error.log});
      const why = error instanceof InvalidTokenError ? error.message : 'the token names no usable user';
      throw new TokenRequestError(401, 'invalid_grant', `${why}: log in again (hub login)`);
    }
    await checkBinding(deps, identity.requester.account, identity.holder, 'access token');
    return {requester: identity.requester, holder: identity.holder};
  };
}

async function checkBinding(deps: Pick<TokenServiceDeps, 'bindings'>, account: string, holder: Holder, presented: string): Promise<void> {
  let mine: boolean;
  try {
    mine = await deps.bindings.claim(account, holder);
  } catch (error) {
    // An operator's edit gone wrong, a full disk: nobody gets an account until it is fixed.
    throw new TokenRequestError(503, 'temporarily_unavailable', "the registry's list of accounts cannot be read just now; try again", {
      operatorNote: {account, reason: `accounts.bindingsFile: ${(error as Error).message}`, subject: holder.subject},
    });
  }
  if (mine) return;
  throw new TokenRequestError(
    403,
    'access_denied',
    `the account name ${JSON.stringify(account)} belongs to another identity on this registry: ask the registry's operator`,
    {operatorNote: {account, reason: `bound to another subject (presented with ${presented})`, subject: holder.subject}},
  );
}

/** The warning an operator acts on: which account or claim, why, whose (never the token). */
export function logRefusedAccount(request: FastifyRequest, note: Record<string, string>): void {
  request.log.warn(
    {event: 'account refused', ...note},
    'account refused: see README, Accounts (oidc.usernameClaim, accounts.bindingsFile)',
  );
}

/** A refusal as the registry's clients read one (docker's error body). */
export function registryErrorBody(error: TokenRequestError) {
  return {errors: [{code: REGISTRY_ERROR_CODES[error.status], message: error.message}]};
}

/** The OIDC token from `Authorization: Basic` (any username, the token as password) or `Bearer`. */
export function credentialsFrom(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(Basic|Bearer) +([\x21-\x7e]+) *$/i.exec(header);
  if (!match) throw new TokenRequestError(401, 'invalid_request', 'the Authorization header is malformed');
  if (match[1]!.toLowerCase() === 'bearer') return match[2]!;
  const decoded = Buffer.from(match[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  if (!password)
    throw new TokenRequestError(401, 'invalid_request', 'the Authorization header carries no password (the OIDC access token)');
  return password;
}

/**
 * The parameters of a query or form: text, or lists of text where a name repeats. Anything else
 * (a client's idea of a structured body) is the client's mistake, said as such.
 */
function textFields(params: unknown, what: string): Query {
  if (typeof params !== 'object' || params === null)
    throw new TokenRequestError(400, 'invalid_request', `the request's ${what}s are not readable`);
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string' && !(Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      throw new TokenRequestError(400, 'invalid_request', `the ${what} ${JSON.stringify(name)} must be text`);
    }
  }
  return params as Query;
}

function checkService(params: Query, deps: TokenServiceDeps): void {
  const services = all(params.service);
  if (services.length > 1 || (services.length === 1 && services[0] !== deps.config.service)) {
    throw new TokenRequestError(400, 'invalid_request', `this token service is for service ${JSON.stringify(deps.config.service)} only`);
  }
}

function all(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Duplicate parameters are refused by taking none: a second grant_type must not win. */
function first(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw new TokenRequestError(400, 'invalid_request', 'a parameter was given more than once');
    return value[0];
  }
  return value;
}
