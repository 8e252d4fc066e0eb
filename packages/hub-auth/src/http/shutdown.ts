import {Server as NetServer} from 'node:net';
import type {FastifyInstance} from 'fastify';
import type {Logger} from 'pino';

/**
 * How long requests in progress get to finish. A token request waits at most oidc.timeoutSeconds
 * (10 s by default) on the provider; 15 s lets those finish and still ends well within
 * Kubernetes' 30 s grace period and systemd's 90 s stop timeout.
 */
export const DRAIN_TIMEOUT_MS = 15_000;

/**
 * How often kept-alive connections with no request in progress are closed during the drain. A
 * client using one sends its next request soon and gets an answer that closes the connection;
 * closing them at once would reset the requests clients are sending on them just then.
 */
const IDLE_CLOSE_INTERVAL_MS = 2000;

export interface Servers {
  app: FastifyInstance;
  monitoring: FastifyInstance;
  /** Closed last, once no request needs it: the embedded store writes its files to the end. */
  store: {close(): Promise<void>};
}

/**
 * SIGTERM and SIGINT drain the token listener and exit 0: no new connections, every request that
 * arrived is answered, each answer closes its connection. A second signal during the drain ends
 * the process at once (the signal's default).
 */
export function drainOnSignals(servers: Servers, logger: Logger): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void drain(signal, servers, logger));
}

async function drain(signal: NodeJS.Signals, {app, monitoring, store}: Servers, logger: Logger): Promise<void> {
  const server = app.server;
  const started = Date.now();
  logger.info(
    {event: 'shutdown', signal, drainTimeoutSeconds: DRAIN_TIMEOUT_MS / 1000},
    'draining: no new connections, requests in progress are answered',
  );
  logger.flush();
  // Requests that arrive on open connections from now on are answered (not refused with 503, as
  // fastify's close would), and their answer tells the client to close the connection.
  server.prependListener('request', (_request, response) => response.setHeader('connection', 'close'));
  // net's close only stops accepting; http's would also drop every idle kept-alive connection at
  // once, resetting requests clients are sending on them at that moment.
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  const idle = setInterval(() => server.closeIdleConnections(), IDLE_CLOSE_INTERVAL_MS);
  let cut = false;
  const deadline = setTimeout(() => {
    cut = true;
    logger.warn({event: 'shutdown', signal}, 'drain timeout: closing the connections still open');
    server.closeAllConnections();
  }, DRAIN_TIMEOUT_MS);
  await closed;
  clearInterval(idle);
  clearTimeout(deadline);
  await monitoring.close();
  await store.close().catch((error: Error) => logger.warn({event: 'shutdown', reason: error.message}, 'the store did not close cleanly'));
  logger.info({event: 'shutdown', signal, seconds: (Date.now() - started) / 1000, cut}, 'drained: hub-auth exits');
  logger.flush();
  process.exit(0);
}
