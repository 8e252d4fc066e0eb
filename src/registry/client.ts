import {fetch} from 'undici';
import {jwtClaims} from '../auth/jwt-claims.js';
import {isLoopbackUrl} from '../auth/oidc.js';
import {HubError, isTransientNetworkError, rootMessage} from '../errors.js';
import type {Session} from '../store/session.js';
import {parseChallenge} from './challenge.js';

/**
 * The registry's HTTP API (distribution's /v2/), authenticated the way docker does it: ask, read
 * the Bearer challenge, get a token for the scopes from the realm with the user's access token.
 */

const TIMEOUT_MS = 30_000;

export interface RegistryClient {
  /** A registry token for these scopes; what it grants is in its `access` claim. */
  token(scopes: string[]): Promise<string>;
  get<T>(path: string, token: string): Promise<T>;
  /** Every repository in the catalog, page by page as the registry links them. */
  catalog(token: string): Promise<string[]>;
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
      const basic = Buffer.from(`${session.account}:${session.accessToken}`).toString('base64');
      const response = await send(`${url}?${query}`, {authorization: `Basic ${basic}`});
      if (response.status === 401) {
        throw new HubError(`The registry's token service refused your credentials.`, {code: 'unauthorized', suggestions: [`Run \`hub login ${session.registry}\`.`]});
      }
      if (!response.ok) throw new HubError(`The registry's token service answered HTTP ${response.status}.`, {code: 'token_service_error'});
      return ((await response.json()) as {token: string}).token;
    },
    async get(path, token) {
      return (await (await getOk(path, token)).json()) as never;
    },
    async catalog(token) {
      const names: string[] = [];
      // distribution serves at most 1000 entries a page (catalog.maxentries).
      let path: string | undefined = '/v2/_catalog?n=1000';
      for (let page = 0; path && page < 1000; page++) {
        const response = await getOk(path, token);
        names.push(...(((await response.json()) as {repositories?: string[]}).repositories ?? []));
        path = /<([^>]+)>;\s*rel="?next"?/.exec(response.headers.get('link') ?? '')?.[1];
      }
      return names;
    },
  };

  async function getOk(path: string, token: string) {
    const response = await send(`${base}${path}`, {authorization: `Bearer ${token}`, accept: 'application/json'});
    if (!response.ok) throw new HubError(`${session.registry} answered HTTP ${response.status} for ${path}.`, {code: 'registry_error'});
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
  if (!URL.canParse(realm) || !(new URL(realm).protocol === 'https:' || (new URL(realm).protocol === 'http:' && isLoopbackUrl(new URL(realm))))) {
    throw new HubError(`${registry} sends clients to ${realm} for tokens; hub sends credentials only over https (plain http only on loopback).`, {
      code: 'insecure_realm',
    });
  }
  return {realm, service: challenge.params.service};
}

export async function send(url: string, headers: Record<string, string>) {
  try {
    return await fetch(url, {headers, signal: AbortSignal.timeout(TIMEOUT_MS)});
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
  if (typeof sub !== 'string' || !sub) throw new HubError(`The token service of ${registry} took the token but named no account.`, {code: 'token_refused'});
  return {account: sub};
}

/** The `access` claim of a registry token, read without checking it: the registry checks it. */
export function grantedAccess(token: string): Array<{type: string; name: string; actions: string[]}> {
  const access = jwtClaims(token)?.access;
  return Array.isArray(access) ? access : [];
}
