import {join} from 'node:path';
import {SERVICE, startHubAuth, TOKEN_ISSUER, type HubAuth, type SigningFiles} from './hub-auth.js';
import {freePort} from './ports.js';
import {startPostgres} from './postgres.js';
import {startProxy} from './proxy.js';
import {startRegistry, type Registry} from './registry.js';

export interface ScaledRegistry {
  /** The hub-auth instances, each on its own port, all on one PostgreSQL. */
  instances: HubAuth[];
  registry: Registry;
  /** The PostgreSQL password, which must appear in no output. */
  storePassword: string;
  stop(): Promise<void>;
}

/**
 * hub-auth scaled out: `count` instances with the same key on one PostgreSQL database behind a
 * round-robin proxy, which is the realm of a registry of their own. The connection string holds
 * the password: given by the environment, never on a command line.
 */
export async function startScaledRegistry(options: {
  dir: string;
  oidcIssuer: string;
  signing: SigningFiles;
  count: number;
}): Promise<ScaledRegistry> {
  const port = await freePort();
  const postgres = await startPostgres();
  const instances: HubAuth[] = [];
  const stops: Array<() => Promise<void>> = [() => postgres.remove()];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    const settings = {
      dir: options.dir,
      oidcIssuer: options.oidcIssuer,
      registryHost: `127.0.0.1:${port}`,
      signing: options.signing,
      store: {url: {env: 'HUB_AUTH_STORE_URL'}},
      env: {HUB_AUTH_STORE_URL: await postgres.database('scale')},
    };
    for (let i = 0; i < options.count; i++) {
      const instance = await startHubAuth(settings);
      instances.push(instance);
      stops.push(() => instance.stop());
    }
    const proxy = await startProxy(instances.map((instance) => instance.url));
    stops.push(() => proxy.stop());
    const registry = await startRegistry(
      join(options.dir, 'registry'),
      {realm: `${proxy.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: options.signing.certificate},
      port,
    );
    stops.push(() => registry.stop());
    return {instances, registry, storePassword: postgres.password, stop};
  } catch (error) {
    await stop();
    throw error;
  }
}
