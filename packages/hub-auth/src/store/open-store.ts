import {mkdir} from 'node:fs/promises';
import {ConfigError, readSecret, type StoreConfig} from '../config.js';
import {lockDataDir, type DataDirLock} from './data-dir-lock.js';
import {migrate} from './migrations.js';
import {StoreUnavailableError, type StoreConnection} from './sql.js';
import {statePath} from './state-path.js';

/** The store hub-auth's state is in, of either kind, with its schema brought up to date before first use. */
export interface Store extends StoreConnection {
  /** Resolves once the schema is up to date; rejects with why not yet (the server is not reachable). */
  ready(): Promise<void>;
}

/** What the store says in hub-auth's log (pino's logger is one). */
interface StoreLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** How often a server that was not reachable at start is tried again (and /readyz asks too). */
const RETRY_MS = 2000;

/**
 * Opens the store that `config` names. The embedded one must open now: its files are here, and
 * a problem with them is one the operator must fix before hub-auth can run. A server may be down
 * when hub-auth starts (both restarted together): hub-auth starts all the same, not ready
 * (/readyz), says why, and keeps trying until it connects.
 */
export async function openStore(config: StoreConfig, logger: StoreLogger, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  if (config.url === undefined) {
    const dataDir = config.dataDir ?? '';
    let path: string;
    try {
      const state = statePath(dataDir, 'store.dataDir', config.followSymlink);
      if (state.followedTo)
        logger.warn(
          {dataDir, target: state.followedTo},
          'store.dataDir is a symbolic link; hub-auth keeps its state where it leads, as store.followSymlink says',
        );
      path = state.path;
      await mkdir(path, {recursive: true, mode: 0o700});
    } catch (error) {
      throw new ConfigError(
        (error as Error).message.startsWith('store.') ? (error as Error).message : `store.dataDir: ${(error as Error).message}`,
      );
    }
    const {openEmbedded} = await import('./embedded.js');
    let lock: DataDirLock | undefined;
    let store: Store | undefined;
    try {
      lock = await lockDataDir(path);
      store = withReadiness(lockedUntilClosed(await openEmbedded(path), lock), logger);
      await store.ready();
    } catch (error) {
      await (store?.close() ?? lock?.release());
      throw new ConfigError(`store.dataDir: cannot open the store in ${path}: ${(error as Error).message}`);
    }
    return store;
  }
  const {openServer} = await import('./server.js');
  const tls = config.tls && {
    ca: config.tls.ca && (await readSecret(config.tls.ca, 'store.tls.ca', env)),
    certificate: config.tls.certificate && (await readSecret(config.tls.certificate, 'store.tls.certificate', env)),
    key: config.tls.key && (await readSecret(config.tls.key, 'store.tls.key', env)),
  };
  const connection = await openServer({
    connectionString: await readSecret(config.url, 'store.url', env),
    tls,
    poolSize: config.poolSize,
    statementTimeoutSeconds: config.statementTimeoutSeconds,
    onIdleError: (reason) =>
      logger.warn({event: 'store', reason}, 'a connection to the store broke while idle; the next request opens another'),
  });
  const store = withReadiness(connection, logger);
  const retry = setInterval(
    () =>
      store.ready().then(
        () => clearInterval(retry),
        () => undefined,
      ),
    RETRY_MS,
  );
  retry.unref();
  void store.ready().then(
    () => clearInterval(retry),
    () => undefined,
  );
  return store;
}

/** The data directory stays locked until its store is closed. */
function lockedUntilClosed(connection: StoreConnection, lock: DataDirLock): StoreConnection {
  return {...connection, close: () => connection.close().finally(() => lock.release())};
}

/**
 * Every query waits for the schema; the store's outages and recoveries are logged once each, not
 * once per request (each request's 503 is logged by the route with its reason).
 */
function withReadiness(connection: StoreConnection, logger: StoreLogger): Store {
  let migrated = false;
  let attempt: Promise<void> | undefined;
  let lastProblem: string | undefined;
  let answering = true;

  const ready = (): Promise<void> => {
    if (migrated) return Promise.resolve();
    attempt ??= migrate(connection).then(
      (applied) => {
        migrated = true;
        logger.info({event: 'store', where: connection.where, migrations: applied, wasDown: lastProblem !== undefined}, 'store ready');
      },
      (error: Error) => {
        attempt = undefined;
        if (error.message !== lastProblem) {
          const outage = error instanceof StoreUnavailableError;
          logger[outage ? 'warn' : 'error'](
            {event: 'store', where: connection.where, reason: error.message},
            outage
              ? 'cannot reach the store: hub-auth keeps trying and is not ready (/readyz) until it can'
              : 'the store refused to bring its schema up to date: hub-auth keeps trying and is not ready (/readyz) until it can',
          );
        }
        lastProblem = error.message;
        throw error;
      },
    );
    return attempt;
  };

  async function watched<T>(work: () => Promise<T>): Promise<T> {
    await ready();
    try {
      const result = await work();
      if (!answering) {
        answering = true;
        logger.info({event: 'store', where: connection.where}, 'the store answers again');
      }
      return result;
    } catch (error) {
      if (error instanceof StoreUnavailableError && answering) {
        answering = false;
        logger.error(
          {event: 'store', where: connection.where, reason: error.message},
          'the store cannot answer: requests that need it get 503 until it does',
        );
      }
      throw error;
    }
  }

  return {
    where: connection.where,
    ready,
    query: (text, params) => watched(() => connection.query(text, params)),
    transaction: (work) => watched(() => connection.transaction(work)),
    listen: (channel, listener) => connection.listen(channel, listener),
    close: () => connection.close(),
  };
}
