import type {FastifyError, FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import {z} from 'zod';
import type {RevocationTarget, SessionRecord} from '../../sessions/sessions.js';
import {StoreUnavailableError} from '../../store/sql.js';
import type {TokenServiceDeps} from '../../service-deps.js';
import {bearerCheck} from '../bearer.js';

/**
 * The operator's API, on the monitoring listener: the live sessions, ending them, and releasing
 * an account name. `hub-auth sessions`, `revoke` and `accounts release` are its clients; with the
 * embedded store, which only the running instance may open, it is the only way in. Every request
 * carries the admin credential (admin-credential.ts) as a bearer token.
 */
export interface AdminAccess {
  /** The credential requests must carry; undefined when the instance has none, with why. */
  credential?: string;
  problem?: string;
}

/** Sessions one listing returns at most, and by default. */
export const MAX_LISTED = 1000;
const DEFAULT_LISTED = 100;

const text = (max: number) => z.string().min(1).max(max);
const holderSchema = z.object({issuer: text(2048), subject: text(2048)}).strict();
const accountSchema = text(255);
const listQuery = z
  .object({account: accountSchema.optional(), limit: z.coerce.number().int().min(1).max(MAX_LISTED).default(DEFAULT_LISTED)})
  .strict();
const revokeBody = z.union([
  z.object({account: accountSchema}).strict(),
  holderSchema,
  z.object({session: z.uuid({error: 'must be a session id as `hub-auth sessions list` shows it'})}).strict(),
]);
const releaseBody = z.object({account: accountSchema, to: holderSchema.optional()}).strict();

const REVOKED_BY_OPERATOR = 'revoked by the operator';

export function registerAdminRoutes(
  app: FastifyInstance,
  deps: Pick<TokenServiceDeps, 'sessions' | 'revocations' | 'bindings' | 'nowSeconds'>,
  access: AdminAccess,
): void {
  const carriesCredential = access.credential === undefined ? undefined : bearerCheck(access.credential);
  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request, reply) => {
        if (carriesCredential === undefined)
          return reply.code(503).send(problem('no_credential', `the admin API has no credential: ${access.problem ?? 'see the log'}`));
        if (!carriesCredential(request)) {
          request.log.warn({event: 'admin', outcome: 'unauthorized', address: request.ip, url: request.url}, 'admin request refused');
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="hub-auth admin"')
            .send(
              problem(
                'unauthorized',
                "the admin credential is missing or wrong: give the running instance's admin.credential (or the file it wrote) as a bearer token",
              ),
            );
        }
      });
      admin.setErrorHandler((error: FastifyError, request, reply) => failed(error, request, reply));

      admin.get('/sessions', async (request) => {
        const query = parsed(listQuery, request.query, 'the query');
        const sessions = await deps.sessions.list({...query, nowSeconds: deps.nowSeconds()});
        return {sessions: sessions.map(shown), limit: query.limit, complete: sessions.length < query.limit};
      });

      admin.post('/revoke', async (request, reply) => {
        const target: RevocationTarget = parsed(revokeBody, request.body, 'the body');
        const ended = await deps.revocations.revoke(target, REVOKED_BY_OPERATOR, deps.nowSeconds());
        request.log.info({event: 'admin', action: 'revoke', target, ended: ended.length}, 'sessions revoked by the operator');
        if ('session' in target && ended.length === 0)
          return reply
            .code(404)
            .send(
              problem(
                'unknown_session',
                `no live session ${target.session}: it is unknown or has ended already; hub-auth sessions list shows the live ones`,
              ),
            );
        return {ended: ended.length, sessions: ended.map((session) => session.id)};
      });

      admin.post('/accounts/release', async (request, reply) => {
        const {account, to} = parsed(releaseBody, request.body, 'the body');
        const released = await deps.bindings.release(account, to, deps.revocations, deps.nowSeconds());
        if (!released)
          return reply.code(404).send(problem('unknown_account', `nobody holds the account name ${account}: there is nothing to release`));
        request.log.info(
          {event: 'admin', action: 'release', account, from: released.from, to: to ?? null, ended: released.endedSessions.length},
          'account name released by the operator',
        );
        return {account, from: released.from, to: to ?? null, ended: released.endedSessions.length, sessions: released.endedSessions};
      });
    },
    {prefix: '/admin'},
  );
}

class BadRequest extends Error {}

function parsed<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`);
  throw new BadRequest(`${what} is not valid: ${issues.join('; ')}`);
}

function problem(error: string, message: string) {
  return {error, message};
}

function failed(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof BadRequest) return reply.code(400).send(problem('bad_request', error.message));
  if (error instanceof StoreUnavailableError)
    return reply.code(503).send(problem('store_unavailable', `the store cannot answer: ${error.message}; try again`));
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
    return reply.code(error.statusCode).send(problem('bad_request', error.message));
  request.log.error({event: 'admin', url: request.url, err: error}, 'admin request failed');
  return reply.code(500).send(problem('failed', 'the admin request failed; the reason is in the log'));
}

/** A session as the operator reads it: times as ISO 8601. */
function shown(session: SessionRecord) {
  const at = (seconds: number) => new Date(seconds * 1000).toISOString();
  return {
    id: session.id,
    account: session.account,
    issuer: session.holder.issuer,
    subject: session.holder.subject,
    client: session.client,
    address: session.address,
    groups: session.groups,
    createdAt: at(session.createdAt),
    lastUsedAt: at(session.lastUsedAt),
    checkedAt: at(session.checkedAt),
    expiresAt: at(session.expiresAt),
  };
}
