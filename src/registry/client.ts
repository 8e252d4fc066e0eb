import {fetch} from 'undici';
import {jwtClaims} from '../auth/jwt-claims.js';
import {HubError, isTransientNetworkError, rootMessage} from '@hub/common/errors';
import {isLoopbackUrl} from '@hub/common/net/loopback';
import type {Session} from '../store/session.js';
import {
  FIRST_CATALOG_PAGE,
  ForeignCatalogLinkError,
  MAX_CATALOG_PAGES,
  nextCatalogPage,
  repositoryListingUrl,
  type RepositoryListing,
} from '@hub/protocol/catalog';
import {parseChallenge} from './challenge.js';
import {passedOn} from '@hub/common/quote';

/**
 * The registry's HTTP API (distribution's /v2/), authenticated the way docker does it: ask, read
 * the Bearer challenge, get a token for the scopes from the realm with the user's access token.
 */

const TIMEOUT_MS = 30_000;

export interface RegistryClient {
  /** A registry token for these scopes; what it grants is in its `access` claim. */
  token(scopes: string[]): Promise<string>;
  get<T>(path: string, token: string): Promise<T>;
  /** Every repository in the catalog, page by page as the registry links them (on its own origin only). */
  catalog(token: string): Promise<string[]>;
  /** What the token service lists as pullable by this user (protocol/catalog.ts); undefined when it has no such listing. */
  pullableRepositories(): Promise<string[] | undefined>;
}

/** docker's rule: a registry on loopback is spoken to in plain HTTP, any other over HTTPS. */
export function registryBaseUrl(registry: string): string {
  const http = `http://${registry}`;
  return isLoopbackUrl(new URL(http)) ? http : `https://${registry}`;
}

export function registryClient(session: Pick<Session, 'registry' | 'account' | 'accessToken'>): RegistryClient {
  const base = registryBaseUrl(session.registry);
  let realm: Promise<Realm> | undefined;

  return {
    async token(scopes) {
      realm ??= discoverRealm(session.registry);
      const {realm: url, service} = await realm;
      const query = new URLSearchParams(service ? {service} : {});
      for (const scope of scopes) query.append('scope', scope);
      const response = await askTokenService(`${url}?${query}`);
      return ((await response.json()) as {token: string}).token;
    },
    async pullableRepositories() {
      realm ??= discoverRealm(session.registry);
      const response = await askTokenService(repositoryListingUrl((await realm).realm).href, [404]);
      if (response.status === 404) return undefined;
      const {repositories} = (await response.json()) as Partial<RepositoryListing>;
      return Array.isArray(repositories) ? repositories.filter((name): name is string => typeof name === 'string') : [];
    },
    async get(path, token) {
      return (await (await getOk(path, token)).json()) as never;
    },
    async catalog(token) {
      const names: string[] = [];
      // distribution serves at most 1000 entries a page (catalog.maxentries).
      let page: URL | undefined = new URL(FIRST_CATALOG_PAGE, base);
      for (let count = 0; page && count < MAX_CATALOG_PAGES; count++) {
        const response = await getOk(page.pathname + page.search, token);
        names.push(...(((await response.json()) as {repositories?: string[]}).repositories ?? []));
        try {
          page = nextCatalogPage(response.headers.get('link'), page);
        } catch (error) {
          if (!(error instanceof ForeignCatalogLinkError)) throw error;
          throw new HubError(
            `${session.registry} is not behaving as a registry: ${error.message}; hub stopped there and sent your token nowhere else.`,
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
    const basic = Buffer.from(`${session.account}:${session.accessToken}`).toString('base64');
    const response = await send(url, {authorization: `Basic ${basic}`, accept: 'application/json'});
    if (response.ok || allowed.includes(response.status)) return response;
    if (response.status === 401) {
      throw new HubError(`The registry's token service refused your credentials.`, {
        code: 'unauthorized',
        suggestions: [`Run \`hub login ${session.registry}\`.`],
      });
    }
    throw new HubError(`The registry's token service answered HTTP ${response.status}${await serviceMessage(response)}.`, {
      code: 'token_service_error',
    });
  }

  async function getOk(path: string, token: string) {
    const response = await send(`${base}${path}`, {authorization: `Bearer ${token}`, accept: 'application/json'});
    if (!response.ok)
      throw new HubError(`${session.registry} answered HTTP ${response.status} for ${path}.`, {
        code: response.status === 404 ? 'registry_not_found' : 'registry_error',
      });
    return response;
  }
}

export interface Realm {
  realm: string;
  service?: string;
}

/** Where the registry sends clients for tokens: the Bearer challenge of an unauthenticated `GET /v2/`. */
export async function discoverRealm(registry: string): Promise<Realm> {
  const response = await send(`${registryBaseUrl(registry)}/v2/`, {});
  const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
  if (response.status !== 401 || challenge?.scheme !== 'bearer' || !challenge.params.realm) {
    throw new HubError(`${registry} does not ask for a token (HTTP ${response.status}): it is not a registry behind hub-auth.`, {
      code: 'not_token_auth',
      suggestions: ['Pass --issuer and --client-id to log in to its identity provider directly.'],
    });
  }
  const realm = challenge.params.realm;
  // The user's OIDC token goes to the realm: a registry must not be able to send it over plain HTTP.
  if (
    !URL.canParse(realm) ||
    !(new URL(realm).protocol === 'https:' || (new URL(realm).protocol === 'http:' && isLoopbackUrl(new URL(realm))))
  ) {
    throw new HubError(
      `${registry} sends clients to ${realm} for tokens; hub sends credentials only over https (plain http only on loopback).`,
      {
        code: 'insecure_realm',
      },
    );
  }
  return {realm, service: challenge.params.service};
}

/** A GET, or with `form` an OAuth2 form POST (the token-auth spec's POST /token). */
export async function send(url: string, headers: Record<string, string>, form?: URLSearchParams) {
  try {
    // undici drops Authorization on a redirect to another origin, but a 307 or 308 resends the
    // body, with the access token in it, wherever it points (plain http too): a form goes nowhere else.
    const request = form ? {method: 'POST', body: form, redirect: 'manual' as const} : {};
    return await fetch(url, {headers, signal: AbortSignal.timeout(TIMEOUT_MS), ...request});
  } catch (error) {
    if (!isTransientNetworkError(error)) throw error;
    throw new HubError(`Cannot reach ${new URL(url).host}: ${rootMessage(error)}.`, {code: 'unreachable', cause: error});
  }
}

/**
 * Whether the registry's hub-auth takes an access token, and whose it says it is: the `sub` of the
 * registry token it signs for it.
 */
export async function checkTokenWithRegistry(registry: string, accessToken: string): Promise<{account: string}> {
  const client = registryClient({registry, account: 'hub', accessToken});
  let token: string;
  try {
    token = await client.token([]);
  } catch (error) {
    if (error instanceof HubError && error.code === 'unauthorized') {
      throw new HubError(`The token service of ${registry} does not accept this token; nothing was stored.`, {
        code: 'token_refused',
        suggestions: ['Use an access token issued for this registry (e.g. `hub token` on a machine that is logged in).'],
      });
    }
    throw error;
  }
  const sub = jwtClaims(token)?.sub;
  if (typeof sub !== 'string' || !sub)
    throw new HubError(`The token service of ${registry} took the token but named no account.`, {code: 'token_refused'});
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
