import {jwtClaims} from '../auth/jwt-claims.js';
import {HubError} from '@hub/common/errors';
import type {Session} from '../store/session.js';
import {
  FIRST_CATALOG_PAGE,
  ForeignCatalogLinkError,
  MAX_CATALOG_PAGES,
  namespaceListingUrl,
  nextCatalogPage,
  pushListingUrl,
  repositoryListingUrl,
  type NamespaceListing,
  type PushListing,
  type RepositoryListing,
} from '@hub/protocol/catalog';
import {passedOn} from '@hub/common/quote';
import {send} from './http.js';
import type {Registry} from './registry.js';

/**
 * The registry's HTTP API (distribution's /v2/), authenticated the way docker does it: ask, read
 * the Bearer challenge, get a token for the scopes from the realm with the user's access token.
 */

export interface RegistryClient {
  /** A registry token for these scopes; what it grants is in its `access` claim. */
  token(scopes: string[]): Promise<string>;
  get<T>(path: string, token: string): Promise<T>;
  /** Every repository in the catalog, page by page as the registry links them (on its own origin only). */
  catalog(token: string): Promise<string[]>;
  /** What the token service lists as pullable by this user (protocol/catalog.ts); undefined when it has no such listing. */
  pullableRepositories(): Promise<string[] | undefined>;
  /** Who last pushed each tag of a repository, and when, as the token service heard from the registry; undefined when it does not say. */
  pushes(repository: string): Promise<PushListing['pushes'] | undefined>;
  /** The names this user may push to and pull from, as the token service's policy has them; undefined when it does not say. */
  namespaces(): Promise<NamespaceListing | undefined>;
}

/** The person's credentials at the registry's token service. */
export type RegistryCredentials = Pick<Session, 'account' | 'accessToken'>;

export function registryClient(registry: Registry, credentials: RegistryCredentials): RegistryClient {
  return {
    async token(scopes) {
      const {realm: url, service} = await registry.realm();
      const query = new URLSearchParams(service ? {service} : {});
      for (const scope of scopes) query.append('scope', scope);
      const response = await askTokenService(`${url}?${query}`);
      return ((await response.json()) as {token: string}).token;
    },
    async pullableRepositories() {
      const response = await askTokenService(repositoryListingUrl((await registry.realm()).realm).href, [404]);
      if (response.status === 404) return undefined;
      return strings(((await response.json()) as Partial<RepositoryListing>).repositories);
    },
    async pushes(repository) {
      const response = await askTokenService(pushListingUrl((await registry.realm()).realm, repository).href, [404]);
      if (response.status === 404) return undefined;
      const {pushes} = (await response.json()) as Partial<PushListing>;
      return Array.isArray(pushes) ? pushes.filter(isPush) : undefined;
    },
    async namespaces() {
      const response = await askTokenService(namespaceListingUrl((await registry.realm()).realm).href, [404]);
      if (response.status === 404) return undefined;
      const {push, pull, account} = (await response.json()) as Partial<NamespaceListing>;
      return {account: typeof account === 'string' ? account : credentials.account, push: strings(push), pull: strings(pull)};
    },
    async get(path, token) {
      return (await (await getOk(path, token)).json()) as never;
    },
    async catalog(token) {
      const names: string[] = [];
      // distribution serves at most 1000 entries a page (catalog.maxentries).
      let page: URL | undefined = new URL(FIRST_CATALOG_PAGE, registry.baseUrl);
      for (let count = 0; page && count < MAX_CATALOG_PAGES; count++) {
        const response = await getOk(page.pathname + page.search, token);
        names.push(...(((await response.json()) as {repositories?: string[]}).repositories ?? []));
        try {
          page = nextCatalogPage(response.headers.get('link'), page);
        } catch (error) {
          if (!(error instanceof ForeignCatalogLinkError)) throw error;
          throw new HubError(
            `${registry.host} is not behaving as a registry: ${error.message}; hub stopped there and sent your token nowhere else.`,
            {
              code: 'foreign_link',
            },
          );
        }
      }
      return names;
    },
  };

  /** The token service, with the user's credentials; `allowed` statuses are returned, not thrown. */
  async function askTokenService(url: string, allowed: number[] = []) {
    const basic = Buffer.from(`${credentials.account}:${credentials.accessToken}`).toString('base64');
    const response = await send(url, {authorization: `Basic ${basic}`, accept: 'application/json'});
    if (response.ok || allowed.includes(response.status)) return response;
    if (response.status === 401) {
      throw new HubError(`The registry's token service refused your credentials${await serviceMessage(response)}.`, {
        code: 'unauthorized',
        suggestions: [`Run \`hub login ${registry.host}\`.`],
      });
    }
    throw new HubError(`The registry's token service answered HTTP ${response.status}${await serviceMessage(response)}.`, {
      code: 'token_service_error',
    });
  }

  async function getOk(path: string, token: string) {
    const response = await send(`${registry.baseUrl}${path}`, {authorization: `Bearer ${token}`, accept: 'application/json'});
    if (!response.ok)
      throw new HubError(`${registry.host} answered HTTP ${response.status} for ${path}.`, {
        code: response.status === 404 ? 'registry_not_found' : 'registry_error',
      });
    return response;
  }
}

/** The strings of a list in another server's answer; nothing when it is not a list. */
function strings(list: unknown): string[] {
  return Array.isArray(list) ? list.filter((name): name is string => typeof name === 'string') : [];
}

/**
 * Whether the registry's hub-auth takes an access token, and whose it says it is: the `sub` of the
 * registry token it signs for it.
 */
export async function checkTokenWithRegistry(registry: Registry, accessToken: string): Promise<{account: string}> {
  const client = registryClient(registry, {account: 'hub', accessToken});
  let token: string;
  try {
    token = await client.token([]);
  } catch (error) {
    if (error instanceof HubError && error.code === 'unauthorized') {
      throw new HubError(`The token service of ${registry.host} does not accept this token; nothing was stored.`, {
        code: 'token_refused',
        suggestions: ['Use an access token issued for this registry (e.g. `hub token` on a machine that is logged in).'],
      });
    }
    throw error;
  }
  const sub = jwtClaims(token)?.sub;
  if (typeof sub !== 'string' || !sub)
    throw new HubError(`The token service of ${registry.host} took the token but named no account.`, {code: 'token_refused'});
  return {account: sub};
}

/** The `access` claim of a registry token, read without checking it: the registry checks it. */
export function grantedAccess(token: string): Array<{type: string; name: string; actions: string[]}> {
  const access = jwtClaims(token)?.access;
  return Array.isArray(access) ? access : [];
}

/**
 * What a refusing token service says, docker style (`errors[].message`) or OAuth style
 * (`error_description`), as `: message`: hub-auth explains a refused account there. Cut short and
 * kept to printable characters, since it is another server's text.
 */
async function serviceMessage(response: Awaited<ReturnType<typeof send>>): Promise<string> {
  const body = (await response.json().catch(() => undefined)) as
    {errors?: Array<{message?: unknown}>; error_description?: unknown} | undefined;
  const message = body?.errors?.[0]?.message ?? body?.error_description;
  return typeof message === 'string' && message !== '' ? `: ${passedOn(message.replace(/[^\x20-\x7e]/g, ''))}` : '';
}

/** One entry of a push listing as hub shows it: another server's answer, so each field is checked. */
function isPush(entry: unknown): entry is PushListing['pushes'][number] {
  const push = entry as Record<string, unknown>;
  return (
    typeof push === 'object' &&
    push !== null &&
    typeof push.tag === 'string' &&
    typeof push.digest === 'string' &&
    typeof push.at === 'string' &&
    (push.by === null || typeof push.by === 'string')
  );
}
