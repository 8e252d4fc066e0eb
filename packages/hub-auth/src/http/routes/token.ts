import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import {formatScope} from '../../tokens/scope.js';
import {issueRegistryToken} from '../../tokens/issue-token.js';
import type {Requester} from '../../policy/acl.js';
import {WORKLOAD_REFUSED, type Caller} from '../../tokens/caller.js';
import {identityFor, refreshGrantCaller} from '../../tokens/identity-sessions.js';
import {MISCONFIGURED, STORE_UNAVAILABLE, TokenRequestError, type Grant, type TokenRequest} from '../../tokens/token-request.js';
import type {TokenServiceDeps} from '../../service-deps.js';
import {passedOn, quoted} from '@hub/common/quote';

/**
 * The token endpoint of the Docker registry token-auth spec: GET with Basic credentials (the
 * password is the user's OIDC access token) or none, and the OAuth2 POST form docker uses with
 * an identity token (grant_type=refresh_token) or a password.
 */

/**
 * Everyone without credentials is the same requester: one object, so that the policy's answers
 * for it are remembered (rememberingDecider) like anyone else's, as a public image's pulls repeat.
 */
const ANONYMOUS: Requester = Object.freeze({groups: Object.freeze([])});

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
  app.get('/token', {schema: tokenAnswer}, (request, reply) =>
    answer(request, reply, 'registry', deps, () => registryTokenRequest(request, deps)),
  );
  app.post('/token', {schema: tokenAnswer}, (request, reply) =>
    answer(request, reply, 'oauth', deps, () => oauthTokenRequest(request, deps)),
  );
}

/** docker's GET: the access token as Basic password (or none, anonymous), the scopes in the query. */
async function registryTokenRequest(request: FastifyRequest, deps: TokenServiceDeps): Promise<TokenRequest> {
  const query = textFields(request.query, 'query parameter');
  checkService(query, deps);
  const token = credentialsFrom(request.headers.authorization);
  const scopes = deps.parseScopes(all(query.scope));
  if (token === undefined) return {grant: 'anonymous', requester: ANONYMOUS, scopes};
  const caller = await deps.callerOf(token, request.ip);
  const offline = first(query.offline_token) === 'true';
  return {grant: 'password', ...caller, scopes, ...(offline && (await signIn(deps, caller, request, query)))};
}

/** The OAuth2 POST form: grant_type password (the access token) or refresh_token (ours). */
async function oauthTokenRequest(request: FastifyRequest, deps: TokenServiceDeps): Promise<TokenRequest> {
  const form = textFields(request.body ?? {}, 'form field');
  checkService(form, deps);
  const grantType = first(form.grant_type);
  const scopes = deps.parseScopes(all(form.scope));
  if (grantType === 'password') {
    const password = first(form.password);
    if (!password) throw new TokenRequestError(400, 'invalid_request', 'password (the OIDC access token) is missing');
    const caller = await deps.callerOf(password, request.ip);
    const offline = first(form.access_type) === 'offline';
    return {grant: 'password', ...caller, scopes, ...(offline && (await signIn(deps, caller, request, form)))};
  }
  if (grantType === 'refresh_token') {
    return {grant: 'refresh_token', ...(await refreshGrantCaller(deps, first(form.refresh_token) ?? '')), scopes};
  }
  throw new TokenRequestError(
    400,
    'unsupported_grant_type',
    `grant_type ${quoted(grantType ?? '')} is not supported: use password or refresh_token`,
  );
}

/**
 * The identity token an offline request also gets: for the session of the one it presents
 * (`refresh_token`: hub continuing its sign-in), or a new session from this client. None when
 * refresh tokens are off.
 */
async function signIn(deps: TokenServiceDeps, caller: Caller, request: FastifyRequest, params: Query) {
  // A workload token lasts its own life: nothing of it may outlive it, so docker keeps the token itself.
  if (!deps.config.refreshTokens.enabled || caller.workload) return undefined;
  const origin = {client: first(params.client_id) ?? '', address: request.ip, presented: first(params.refresh_token)};
  return {identity: await identityFor(deps, caller, origin)};
}

/** The token request `understand` reads, granted and signed, or refused; logged and counted either way. */
async function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  style: 'registry' | 'oauth',
  deps: TokenServiceDeps,
  understand: () => Promise<TokenRequest>,
): Promise<unknown> {
  const started = performance.now();
  let grant: Grant | 'unknown' = 'unknown';
  try {
    const understood = await understand();
    grant = understood.grant;
    const {response, access} = issueRegistryToken(deps, understood);
    request.log.info(decisionLine(understood, access, response.refresh_token !== undefined), 'token issued');
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
    else if (outcome === STORE_UNAVAILABLE)
      request.log.error(
        {event: 'token', grant, outcome, ...passedOnAll(error.operatorNote)},
        'token refused: the store cannot answer (503, try again)',
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

/** distribution's error codes, which docker shows. */
const REGISTRY_ERROR_CODES = {400: 'DENIED', 401: 'UNAUTHORIZED', 403: 'DENIED', 429: 'TOOMANYREQUESTS', 503: 'UNAVAILABLE'} as const;

/**
 * Who got what: the audit line of a granted request. What was asked is there only when it differs
 * from what was granted (something was denied, or malformed): the line is written for every
 * request, and the same list twice would be most of it.
 */
function decisionLine({grant, requester, scopes, workload}: TokenRequest, access: readonly ResourceScope[], refresh: boolean) {
  const granted = access.map(formatScope);
  const requested = scopes.map(formatScope);
  const differs = requested.length !== granted.length || requested.some((scope, index) => scope !== granted[index]);
  const audit = workload && {workload: {issuer: workload.issuer, claims: passedOnAll(workload.claims)}};
  return {event: 'token', grant, account: requester.account ?? null, granted, ...(differs ? {requested} : {}), refresh, ...audit};
}

/** The warning an operator acts on: which account or claim, why, whose (never the token). */
export function logRefusedAccount(request: FastifyRequest, note: Record<string, string>): void {
  request.log.warn(
    {event: 'account refused', ...passedOnAll(note)},
    note.event === WORKLOAD_REFUSED
      ? 'workload token refused: see README, Workload tokens (workloads.issuers)'
      : 'account refused: see README, Accounts (oidc.usernameClaim, accounts.bindingsFile)',
  );
}

/** A note's values come from the token (the account name): each passed on as passedOn says. */
const passedOnAll = (note: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(note).map(([key, value]) => [key, passedOn(value)]));

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
      throw new TokenRequestError(400, 'invalid_request', `the ${what} ${quoted(name)} must be text`);
    }
  }
  return params as Query;
}

function checkService(params: Query, deps: TokenServiceDeps): void {
  const services = all(params.service);
  if (services.length > 1 || (services.length === 1 && services[0] !== deps.config.service)) {
    throw new TokenRequestError(400, 'invalid_request', `this token service is for service ${quoted(deps.config.service)} only`);
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
