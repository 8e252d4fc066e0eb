import type {Logger} from 'pino';
import {loadConfig, type TokenServiceConfig} from '../config.js';
import {watchProviderUntilReady} from '../oidc/provider-watch.js';
import type {Store} from '../store/open-store.js';
import {createTokenService} from './service.js';

type TokenService = Awaited<ReturnType<typeof createTokenService>>;

/**
 * SIGHUP reads the configuration file again, with the secrets and keys it names, and builds the
 * token service anew from it, on the store opened at start: key rotation (publish the new key, later sign with it, later drop
 * the old one), policy, lifetimes, the provider, without a restart. Requests that arrived before
 * are answered by the service they arrived at; the listening socket, and what is set on it (the
 * addresses, timeouts and connection limit), stay: those changes are named in the log as waiting
 * for a restart. A file that is not valid, or keys that cannot be read or do not match, are
 * logged and the running service stays in force.
 */
export function reloadOnHangup(
  configFile: string,
  config: TokenServiceConfig,
  service: TokenService,
  store: Store,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): void {
  let running = {config, app: service.app};
  // One reload at a time, in the order the signals came: the last file read wins.
  let queue = Promise.resolve();
  process.on('SIGHUP', () => {
    queue = queue.then(async () => {
      running = await reload(configFile, running, service, store, logger, env);
      logger.flush();
    });
  });
}

async function reload(
  configFile: string,
  running: {config: TokenServiceConfig; app: TokenService['app']},
  listening: TokenService,
  store: Store,
  logger: Logger,
  env: NodeJS.ProcessEnv,
): Promise<typeof running> {
  let config: TokenServiceConfig;
  let next: TokenService;
  try {
    config = await loadConfig(configFile);
    next = await createTokenService(config, store, logger, env, listening.metrics);
    await next.app.ready();
  } catch (error) {
    logger.error(
      {event: 'reload', file: configFile, reason: (error as Error).message},
      'reload refused: the running configuration and keys stay in force',
    );
    return running;
  }
  // The listening server hands each new request to the app now in force (fastify's routing is the
  // server's request listener); a request already handed over finishes where it is.
  const server = listening.app.server;
  server.removeListener('request', running.app.routing);
  server.on('request', next.app.routing);
  listening.followReadiness(next.ready);
  watchProviderUntilReady(next.providerReady, logger);
  logger.info(
    {event: 'reload', file: configFile, signingKid: next.keys.signer.kid, publishedKids: next.keys.jwks.keys.map((key) => key.kid)},
    'reloaded the configuration and the keys',
  );
  const waiting = socketSettingsChanged(running.config, config);
  if (waiting.length > 0) {
    logger.warn({event: 'reload', file: configFile, settings: waiting}, 'these settings changed but take effect only after a restart');
  }
  // What waits for a restart stays as it runs, so that the next reload names it again.
  return {
    config: {
      ...config,
      listen: {...config.listen, ...pick(running.config.listen, SOCKET_SETTINGS)},
      monitoring: running.config.monitoring,
      store: running.config.store,
    },
    app: next.app,
  };
}

/** What is set on the listening sockets rather than in the app. */
const SOCKET_SETTINGS = ['host', 'port', 'requestTimeoutSeconds', 'maxConnections'] as const;

function socketSettingsChanged(running: TokenServiceConfig, next: TokenServiceConfig): string[] {
  const changed: string[] = SOCKET_SETTINGS.filter((key) => running.listen[key] !== next.listen[key]).map((key) => `listen.${key}`);
  if (JSON.stringify(running.monitoring) !== JSON.stringify(next.monitoring)) changed.push('monitoring');
  // The store is opened once, at start: the embedded one can be open in one place only.
  if (JSON.stringify(running.store) !== JSON.stringify(next.store)) changed.push('store');
  return changed;
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, object[key]])) as Pick<T, K>;
}
