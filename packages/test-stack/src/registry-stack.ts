import {join} from 'node:path';
import {startDockerEngine, type DockerEngine} from './docker-engine.js';
import {BACKCHANNEL_LOGOUT_PATH, REGISTRY_NOTIFICATIONS_PATH} from '@hub/protocol/hub-auth-endpoints';
import {
  keygen,
  NOTIFICATION_TOKEN,
  registryNotificationsSection,
  SERVICE,
  startHubAuth,
  TOKEN_ISSUER,
  type HubAuth,
  type HubAuthOptions,
  type SigningFiles,
  webSection,
} from './hub-auth.js';
import {startLoginStack, type LoginStack} from './login-stack.js';
import {freePort} from './ports.js';
import {assertPrograms} from './prerequisites.js';
import {startProxy, type Proxy} from './proxy.js';
import {startRegistry, type Registry} from './registry.js';

export const REGISTRY_PROGRAMS = ['dockerd', 'docker', 'docker-registry', 'tar'];

/**
 * The whole product for real: the login stack (provider, browser, keyring) plus hub-auth, a
 * registry that trusts it, and a Docker engine. `env` points the docker CLI at the engine.
 */
export interface RegistryStack extends LoginStack {
  signing: SigningFiles;
  hubAuth: HubAuth;
  /** The registry's realm: a proxy in front of hub-auth that tests can make fail. */
  realm: Proxy;
  registry: Registry;
  engine: DockerEngine;
}

export interface RegistryStackOptions {
  publicRepositories?: string[];
  /** Replaces the default policy (policy.rules), as an operator's configuration does. */
  rules?: Array<Record<string, unknown>>;
  /** Merged into hub-auth's configuration (e.g. tokenLifetimeSeconds). */
  hubAuth?: Record<string, unknown>;
  /** The registry behind a link this slow (each request and answer body), for transfers that last. */
  registryBytesPerSecond?: number;
  /** The registry's port, when it must be this one (a port browsers block); a free one otherwise. */
  registryPort?: number;
  /** hub-auth serves the web hub, with the provider's web client registered for it. */
  web?: boolean;
}

export async function startRegistryStack(options: RegistryStackOptions = {}): Promise<RegistryStack> {
  assertPrograms(REGISTRY_PROGRAMS);
  // The provider sends back-channel logouts to hub-auth, which starts after it: its port is chosen first.
  const hubAuthPort = await freePort();
  const hubAuthUrl = `http://127.0.0.1:${hubAuthPort}`;
  const login = await startLoginStack({
    backchannelLogoutUri: `${hubAuthUrl}${BACKCHANNEL_LOGOUT_PATH}`,
    ...(options.web ? {webHubUrl: hubAuthUrl} : {}),
  });
  try {
    const parts = await startRegistryParts({
      dir: login.sandbox.dir,
      registryPort: options.registryPort ?? (await freePort()),
      hubAuth: {
        port: hubAuthPort,
        oidcIssuer: login.idp.issuer,
        publicRepositories: options.publicRepositories,
        extra: {
          ...options.hubAuth,
          ...(options.rules ? {policy: {rules: options.rules}} : {}),
          ...(options.web ? {web: webSection(hubAuthUrl)} : {}),
        },
      },
      registryBytesPerSecond: options.registryBytesPerSecond,
    });
    return {
      ...login,
      ...parts,
      env: {...login.env, DOCKER_HOST: parts.engine.host},
      stop: async () => {
        await parts.stop();
        await login.stop();
      },
    };
  } catch (error) {
    await login.stop();
    throw error;
  }
}

/** hub-auth, the realm proxy, the registry and a Docker engine: what serves a registry, whichever provider signs people in. */
export interface RegistryParts {
  signing: SigningFiles;
  hubAuth: HubAuth;
  realm: Proxy;
  registry: Registry;
  engine: DockerEngine;
  stop(): Promise<void>;
}

/** `registryPort` is chosen up front: a provider may have to know the registry (its audience) before it starts. */
export async function startRegistryParts(options: {
  dir: string;
  registryPort: number;
  hubAuth: Omit<HubAuthOptions, 'dir' | 'registryHost' | 'signing'>;
  /** The registry behind a link this slow (each request and answer body), for transfers that last. */
  registryBytesPerSecond?: number | undefined;
}): Promise<RegistryParts> {
  const {dir, registryPort} = options;
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    const signing = await keygen(join(dir, 'keys'));
    const hubAuth = await startHubAuth({
      ...options.hubAuth,
      extra: {registryNotifications: registryNotificationsSection, ...options.hubAuth.extra},
      dir: join(dir, 'hub-auth'),
      registryHost: `127.0.0.1:${registryPort}`,
      signing,
    });
    stops.push(() => hubAuth.stop());
    const realm = await startProxy([hubAuth.url]);
    stops.push(() => realm.stop());
    // Behind a slow link, the registry listens elsewhere and the link takes its name (and the token audience).
    const registryAuth = {realm: `${realm.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: signing.certificate};
    // The registry tells hub-auth of its pushes and pulls directly, not through the realm's proxy.
    const notifications = {url: `${hubAuth.url}${REGISTRY_NOTIFICATIONS_PATH}`, token: NOTIFICATION_TOKEN};
    const direct = await startRegistry(
      join(dir, 'registry'),
      registryAuth,
      options.registryBytesPerSecond ? undefined : registryPort,
      undefined,
      notifications,
    );
    stops.push(() => direct.stop());
    let registry = direct;
    if (options.registryBytesPerSecond) {
      const link = await startProxy([direct.url], {bytesPerSecond: options.registryBytesPerSecond, keepHost: true, port: registryPort});
      stops.push(() => link.stop());
      registry = {host: `127.0.0.1:${registryPort}`, url: link.url, stop: direct.stop};
    }
    const engine = await startDockerEngine(join(dir, 'docker'));
    stops.push(() => engine.stop());
    return {signing, hubAuth, realm, registry, engine, stop};
  } catch (error) {
    await stop();
    throw error;
  }
}
