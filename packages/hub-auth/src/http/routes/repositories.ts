import {randomUUID} from 'node:crypto';
import type {FastifyInstance} from 'fastify';
import {fetch} from 'undici';
import {FIRST_CATALOG_PAGE, MAX_CATALOG_PAGES, nextCatalogPage, REPOSITORY_LISTING, type RepositoryListing} from '@hub/protocol/catalog';
import type {TokenServiceDeps} from '../../service-deps.js';
import {decide} from '../../policy/acl.js';
import {isValidRepositoryName} from '@hub/protocol/repository-name';
import {TokenRequestError} from '../../tokens/token-request.js';
import {credentialsFrom, logRefusedAccount, registryErrorBody} from './token.js';

/**
 * The repositories the caller may pull, for `hub images`. The registry's catalog lists every
 * repository, so the default policy grants it to nobody; hub-auth reads it with a token it signs
 * for itself and keeps the names the policy lets the caller pull. Doing it here rather than in
 * hub keeps the full list on the server and needs no catalog grant for users.
 */

const READ_TIMEOUT_MS = 30_000;
/**
 * One catalog read serves every listing for this long: any signed-in user can ask, and a big
 * registry's catalog is many pages. A repository pushed meanwhile shows up that much later.
 */
const CATALOG_REUSE_MS = 30_000;
/** The catalog token lives only as long as one listing takes. */
const CATALOG_TOKEN_SECONDS = 60;

export function registerRepositoryListingRoute(app: FastifyInstance, deps: TokenServiceDeps): void {
  const {callerOf} = deps;
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

  app.get(`/${REPOSITORY_LISTING}`, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    let account: string;
    let visible: string[];
    try {
      const token = credentialsFrom(request.headers.authorization);
      if (token === undefined) throw new TokenRequestError(401, 'invalid_request', 'sign in to list repositories (hub login)');
      const {requester} = await callerOf(token, request.ip);
      account = requester.account;
      const names = await catalog();
      visible = decide(
        deps.rules,
        requester,
        names.filter(isValidRepositoryName).map((name) => ({type: 'repository', name, actions: ['pull']})),
      ).map((entry) => entry.name);
    } catch (error) {
      if (error instanceof TokenRequestError) {
        if (error.operatorNote) logRefusedAccount(request, error.operatorNote);
        return reply.code(error.status).send(registryErrorBody(error));
      }
      request.log.warn({event: 'repositories', error: (error as Error).message}, 'cannot read the registry catalog');
      return reply.code(502).send({errors: [{code: 'UNAVAILABLE', message: 'the registry catalog cannot be read just now; try again'}]});
    }
    request.log.info({event: 'repositories', account, listed: visible.length}, 'repositories listed');
    return reply.send({repositories: visible} satisfies RepositoryListing);
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

/** Every name in the catalog, page by page; the token never leaves the registry's origin. */
async function readCatalog(registry: URL, token: string): Promise<string[]> {
  const names: string[] = [];
  let page: URL | undefined = new URL(FIRST_CATALOG_PAGE, registry);
  for (let count = 0; page && count < MAX_CATALOG_PAGES; count++) {
    const response = await fetch(page, {
      headers: {authorization: `Bearer ${token}`, accept: 'application/json'},
      signal: AbortSignal.timeout(READ_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`${page.origin} answered HTTP ${response.status} for the catalog`);
    const body = (await response.json()) as {repositories?: unknown};
    if (Array.isArray(body.repositories)) names.push(...body.repositories.filter((name): name is string => typeof name === 'string'));
    page = nextCatalogPage(response.headers.get('link'), page);
  }
  return names;
}
