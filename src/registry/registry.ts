import {ExitCode, HubError} from '@hub/common/errors';
import {isHttpsOrLoopback, isLoopbackUrl} from '@hub/common/net/loopback';
import {registryAudience} from '@hub/protocol/registry-audience';
import {normalizeRegistryHost} from '../config/registry-host.js';
import type {RegistrySettings, Settings} from '../config/settings.js';

/**
 * One registry as a command talks to it, derived once from docker's name for it and handed from
 * step to step, so that no step works out the URL, the audience or the realm again.
 */
export interface Registry {
  /** docker's name for it (config.json's key): the host with its port, lower case. */
  host: string;
  /** Where its /v2/ API is: docker's rule, plain HTTP on loopback only. */
  baseUrl: string;
  /** What access tokens for it are asked for, unless login was told otherwise (@hub/protocol/registry-audience). */
  audience: string;
  /** What `hub login` saved for it; undefined before the first login. */
  settings?: RegistrySettings;
  /** Where it sends clients for tokens: asked of the registry the first time, then kept. */
  realm(): Promise<Realm>;
}

export interface Realm {
  realm: string;
  service?: string;
}

export function registryAt(host: string, settings?: RegistrySettings): Registry {
  let realm: Promise<Realm> | undefined;
  const registry: Registry = {
    host,
    baseUrl: registryBaseUrl(host),
    audience: registryAudience(host),
    settings,
    realm: () => (realm ??= discoverRealm(registry)),
  };
  return registry;
}

/** docker's rule: a registry on loopback is spoken to in plain HTTP, any other over HTTPS. */
export function registryBaseUrl(host: string): string {
  const http = `http://${host}`;
  return isLoopbackUrl(new URL(http)) ? http : `https://${host}`;
}

/**
 * Which registry a command is about: the one named, else HUB_REGISTRY, else the only one hub
 * knows. With several and none named, the person has to choose.
 */
export function chooseRegistry(named: string | undefined, settings: Settings, env: NodeJS.ProcessEnv): Registry {
  const given = named ?? env.HUB_REGISTRY;
  const host = given ? normalizeRegistryHost(given) : onlyKnown(settings);
  return registryAt(host, settings.registries[host]);
}

function onlyKnown(settings: Settings): string {
  const known = Object.keys(settings.registries);
  if (known.length === 1) return known[0]!;
  // Not logged in is a state, not a usage error: exit 1, as when a registry is named (notLoggedIn).
  if (known.length === 0) {
    throw new HubError('You are not logged in to any registry.', {
      code: 'not_logged_in',
      suggestions: ['Run `hub login REGISTRY`, e.g. `hub login registry.example.com`.'],
    });
  }
  throw new HubError(`No registry given, and hub knows several: ${known.join(', ')}.`, {
    exit: ExitCode.usage,
    code: 'registry_required',
    suggestions: ['Name the registry, e.g. `hub push registry.example.com/team/app`, or set HUB_REGISTRY.'],
  });
}

/**
 * The Bearer challenge of an unauthenticated `GET /v2/`. The HTTP client and the challenge parser
 * load only here: docker-credential-hub asks for the realm only when it needs a new identity token.
 */
async function discoverRealm(registry: Registry): Promise<Realm> {
  const [{send}, {parseChallenge}] = await Promise.all([import('./http.js'), import('./challenge.js')]);
  const response = await send(`${registry.baseUrl}/v2/`, {});
  const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
  // A 404 means no registry API answers there at all: --issuer would not help, the address is wrong.
  if (response.status === 404) {
    throw new HubError(`${registry.host} has no registry API: GET ${registry.baseUrl}/v2/ answered HTTP 404.`, {
      code: 'not_a_registry',
      suggestions: ['Check the address: give the host (and port) docker pushes to, e.g. registry.example.com or localhost:5000.'],
    });
  }
  if (response.status !== 401 || challenge?.scheme !== 'bearer' || !challenge.params.realm) {
    throw new HubError(`${registry.host} does not ask for a token (HTTP ${response.status}): it is not a registry behind hub-auth.`, {
      code: 'not_token_auth',
      suggestions: ['Pass --issuer and --client-id to log in to its identity provider directly.'],
    });
  }
  const realm = challenge.params.realm;
  // The user's OIDC token goes to the realm: a registry must not be able to send it over plain HTTP.
  if (!URL.canParse(realm) || !isHttpsOrLoopback(new URL(realm))) {
    throw new HubError(
      `${registry.host} sends clients to ${realm} for tokens; hub sends credentials only over https (plain http only on loopback).`,
      {
        code: 'insecure_realm',
      },
    );
  }
  return {realm, service: challenge.params.service};
}
