import {randomUUID} from 'node:crypto';
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import {httpRequest} from '@hub/common/net/http-request';
import {
  FIRST_CATALOG_PAGE,
  MAX_CATALOG_PAGES,
  NAMESPACE_LISTING,
  nextCatalogPage,
  PUSH_LISTING,
  REPOSITORY_LISTING,
  type NamespaceListing,
  type PushListing,
  type RepositoryListing,
} from '@hub/protocol/catalog';
import type {TokenServiceDeps} from '../../service-deps.js';
import {decide, namesGranted} from '../../policy/acl.js';
import type {Caller} from '../../tokens/caller.js';
import {isValidRepositoryName} from '@hub/protocol/repository-name';
import {TokenRequestError} from '../../tokens/token-request.js';
import {credentialsFrom, logRefusedAccount, registryErrorBody} from './token.js';

/**
 * The repositories the caller may pull, for `hub images`, and the names they may push and pull
 * under, for a refused `hub push` or `hub pull`. The registry's catalog lists every
 * repository, so the default policy grants it to nobody; hub-auth reads it with a token it signs
 * for itself and keeps the names the policy lets the caller pull. Doing it here rather than in
 * hub keeps the full list on the server and needs no catalog grant for users.
 */

const READ_TIMEOUT_MS = 30_000;
/**
 * One catalog read serves every listing for this long: any signed-in user can ask, and a big
 * registry's catalog is many pages. A repository pushed meanwhile into a namespace the caller may
 * not push to (another's, or a public one) shows up that much later; their own are read fresh.
 */
const CATALOG_REUSE_MS = 30_000;
/** The catalog token lives only as long as one listing takes. */
const CATALOG_TOKEN_SECONDS = 60;

/** The names of the registry's catalog the policy lets this requester pull. */
export type PullableRepositories = (requester: Caller['requester']) => Promise<string[]>;

/** One per app: the `hub images` listing and the web hub share its catalog read. */
export function pullableRepositories(deps: TokenServiceDeps): PullableRepositories {
  const registry = new URL(deps.config.registry.url ?? `https://${deps.config.registry.host}`);
  let recent: {readAt: number; names: Promise<string[]>} | undefined;
  const catalog = (): Promise<string[]> => {
    if (recent === undefined || performance.now() - recent.readAt > CATALOG_REUSE_MS) {
      const names = readCatalog(registry, catalogToken(deps));
      // A failed read is not kept: the next listing tries again.
      names.catch(() => {
        if (recent?.names === names) recent = undefined;
      });
      recent = {readAt: performance.now(), names};
    }
    return recent.names;
  };
  return async (requester) => {
    // What the caller may push to is read fresh (one catalog page each, from where it starts):
    // a push just made shows at once, on whichever instance is asked, and only others' wait.
    const own = namespacePrefixes(namesGranted(deps.rules, requester, 'push'));
    const read = await Promise.all([catalog(), ...own.map((prefix) => readCatalog(registry, catalogToken(deps), prefix))]);
    const names = [...new Set(read.flat())].filter(isValidRepositoryName);
    return decide(
      deps.rules,
      requester,
      names.map((name) => ({type: 'repository', name, actions: ['pull']})),
    ).map((entry) => entry.name);
  };
}

export function registerRepositoryListingRoute(app: FastifyInstance, deps: TokenServiceDeps, pullable: PullableRepositories): void {
  app.get(`/${REPOSITORY_LISTING}`, (request, reply) =>
    asCaller(request, reply, deps, async (requester) => {
      const visible = await pullable(requester);
      request.log.info({event: 'repositories', account: requester.account, listed: visible.length}, 'repositories listed');
      return {repositories: visible} satisfies RepositoryListing;
    }),
  );

  app.get(`/${PUSH_LISTING}`, (request, reply) =>
    asCaller(request, reply, deps, async (requester) => {
      const repository = String((request.query as Record<string, unknown>).repository ?? '');
      const granted =
        isValidRepositoryName(repository) && decide(deps.rules, requester, [{type: 'repository', name: repository, actions: ['pull']}]);
      // One answer for "absent" and "not yours": which names exist is not the caller's to learn.
      if (!granted || !granted.some((scope) => scope.actions.includes('pull'))) {
        reply.code(404);
        return {errors: [{code: 'NAME_UNKNOWN', message: 'no such repository, or you may not pull it'}]};
      }
      const pushes = await deps.activity.lastPushPerTag(repository);
      return {
        repository,
        pushes: pushes.map((push) => ({
          tag: push.tag,
          digest: push.digest,
          by: push.by ?? null,
          at: new Date(push.at * 1000).toISOString(),
        })),
      } satisfies PushListing;
    }),
  );

  app.get(`/${NAMESPACE_LISTING}`, (request, reply) =>
    asCaller(
      request,
      reply,
      deps,
      async (requester) =>
        ({
          account: requester.account,
          push: namesGranted(deps.rules, requester, 'push'),
          pull: namesGranted(deps.rules, requester, 'pull'),
        }) satisfies NamespaceListing,
    ),
  );
}

/**
 * A listing for the caller its credentials name: refused as a token request would be, or 502
 * when the registry cannot be read.
 */
async function asCaller(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: TokenServiceDeps,
  list: (requester: Caller['requester']) => Promise<object>,
): Promise<unknown> {
  reply.header('cache-control', 'no-store');
  try {
    const token = credentialsFrom(request.headers.authorization);
    if (token === undefined) throw new TokenRequestError(401, 'invalid_request', 'sign in to list repositories (hub login)');
    const {requester} = await deps.callerOf(token, request.ip);
    return reply.send(await list(requester));
  } catch (error) {
    if (error instanceof TokenRequestError) {
      if (error.operatorNote) logRefusedAccount(request, error.operatorNote);
      return reply.code(error.status).send(registryErrorBody(error));
    }
    request.log.warn({event: 'repositories', error: (error as Error).message}, 'cannot read the registry catalog');
    return reply.code(502).send({errors: [{code: 'UNAVAILABLE', message: 'the registry catalog cannot be read just now; try again'}]});
  }
}

/** The namespaces among these globs (`alice/*`, `groups/dev/*`: a name, then anything under it), as `alice`, `groups/dev`. */
function namespacePrefixes(globs: readonly string[]): string[] {
  return globs.flatMap((glob) => {
    const prefix = glob.endsWith('/*') ? glob.slice(0, -2) : undefined;
    return prefix !== undefined && prefix !== '' && !prefix.includes('*') ? [prefix] : [];
  });
}

function catalogToken(deps: TokenServiceDeps): string {
  const now = deps.nowSeconds();
  return deps.signer.sign({
    iss: deps.config.issuer,
    sub: '',
    aud: deps.config.service,
    exp: now + CATALOG_TOKEN_SECONDS,
    nbf: now,
    iat: now,
    jti: randomUUID(),
    access: [{type: 'registry', name: 'catalog', actions: ['*']}],
  });
}

/**
 * Every name in the catalog, page by page, or with `namespace` only the names under it: distribution
 * sorts its catalog path by path and starts a page after `last`, so the names under `alice` follow
 * `last=alice` and end at the first name outside. The token never leaves the registry's origin.
 */
async function readCatalog(registry: URL, token: string, namespace?: string): Promise<string[]> {
  const names: string[] = [];
  let page: URL | undefined = new URL(FIRST_CATALOG_PAGE, registry);
  if (namespace !== undefined) page.searchParams.set('last', namespace);
  const inside = (name: string) => namespace === undefined || name.startsWith(`${namespace}/`);
  for (let count = 0; page && count < MAX_CATALOG_PAGES; count++) {
    // Not fetch: the registry may be on a port browsers block (10080), as docker allows.
    const response = await httpRequest(page, {
      headers: {authorization: `Bearer ${token}`, accept: 'application/json'},
      signal: AbortSignal.timeout(READ_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`${page.origin} answered HTTP ${response.status} for the catalog`);
    const body = (await response.json()) as {repositories?: unknown};
    const listed = Array.isArray(body.repositories) ? body.repositories.filter((name): name is string => typeof name === 'string') : [];
    names.push(...listed.filter(inside));
    if (!listed.every(inside)) break;
    page = nextCatalogPage(response.headers.get('link'), page);
  }
  return names;
}
