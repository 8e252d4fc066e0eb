import type {ConnectionOptions} from 'node:tls';
import type {Client, Pool, PoolClient} from 'pg';
import {StoreUnavailableError, type Sql, type StoreConnection} from './sql.js';

export interface ServerOptions {
  /** The connection string, password included: kept in the pool's options only, never said. */
  connectionString: string;
  /** TLS to the server (store.tls), PEM text; absent: as the connection string's sslmode says. */
  tls?: {ca?: string; certificate?: string; key?: string};
  poolSize: number;
  statementTimeoutSeconds: number;
  /** A connection the pool held broke while idle (the server restarted): told, never thrown. */
  onIdleError: (reason: string) => void;
}

/** A PostgreSQL server through a bounded pool of `pg` connections: several instances share it. */
export async function openServer(options: ServerOptions): Promise<StoreConnection> {
  // Loaded only here: the embedded store has no use for the client.
  const {default: pg} = await import('pg');
  const timeoutMs = Math.round(options.statementTimeoutSeconds * 1000);
  const secret = passwordOf(options.connectionString);
  const where = `PostgreSQL at ${serverOf(options.connectionString)}`;
  // One session's settings, for the pool's connections and the listener's alike.
  const settings = {
    connectionString: options.connectionString,
    ssl: options.tls && tlsOptions(options.tls),
    // A server that does not answer (stopped, a frozen VM, a lost network) fails the request in
    // seconds rather than holding it and every one queued behind it.
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 1000,
    lock_timeout: timeoutMs,
  };
  const pool: Pool = new pg.Pool({...settings, max: options.poolSize, idleTimeoutMillis: 30_000, application_name: 'hub-auth'});
  const listeners = new Set<Client>();
  let closed = false;
  // An idle connection that breaks emits on the pool; unheard, that event would end the process.
  pool.on('error', (error) => options.onIdleError(scrubbed(error, secret)));
  const unavailable = (error: unknown) =>
    // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention: shutdown, timeouts) and no code (the socket): the server's state, not a query's fault.
    isOutage(error) ? new StoreUnavailableError(`${where} cannot answer: ${scrubbed(error, secret)}`) : error;
  const run = async <Row extends object>(client: Pool | PoolClient, text: string, params: readonly unknown[]) => {
    try {
      return (await client.query<Row>(text, [...params])).rows;
    } catch (error) {
      throw unavailable(error);
    }
  };
  return {
    where,
    query: (text, params = []) => run(pool, text, params),
    async transaction(work) {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unavailable(error);
      }
      const sql: Sql = {query: (text, params = []) => run(client, text, params)};
      let broken = false;
      try {
        await sql.query('BEGIN');
        const result = await work(sql);
        await sql.query('COMMIT');
        return result;
      } catch (error) {
        await sql.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        // A connection whose rollback failed is dropped, not handed to the next request.
        client.release(broken);
      }
    },
    listen(channel, listener) {
      // Its own connection, outside the pool: LISTEN belongs to one session, for as long as it lives.
      const connect = async () => {
        if (closed) return;
        const client: Client = new pg.Client({...settings, keepAlive: true, application_name: 'hub-auth listener'});
        listeners.add(client);
        let lost = false;
        const lose = (reason: string) => {
          if (lost) return;
          lost = true;
          listeners.delete(client);
          void client.end().catch(() => undefined);
          if (closed) return;
          listener.onLost(reason);
          setTimeout(() => void connect(), LISTEN_RETRY_MS).unref();
        };
        client.on('notification', () => listener.onNotification());
        client.on('error', (error) => lose(scrubbed(error, secret)));
        client.on('end', () => lose('the connection ended'));
        try {
          await client.connect();
          // A channel is an identifier, never a value: one of hub-auth's own names.
          await client.query(`LISTEN ${channel}`);
          if (!lost) listener.onListening();
        } catch (error) {
          lose(scrubbed(error, secret));
        }
      };
      void connect();
    },
    async close() {
      closed = true;
      await Promise.all([...listeners].map((client) => client.end().catch(() => undefined)));
      await pool.end();
    },
  };
}

/** How soon a listener whose connection broke tries again: the store's own requests fail meanwhile anyway. */
const LISTEN_RETRY_MS = 1000;

function isOutage(error: unknown): boolean {
  const code = (error as {code?: unknown}).code;
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || /^(08|53|57)/.test(code);
}

function tlsOptions(tls: NonNullable<ServerOptions['tls']>): ConnectionOptions {
  return {ca: tls.ca, cert: tls.certificate, key: tls.key, rejectUnauthorized: true};
}

/** host:port/database of a connection string, for the log; key=value strings are not parsed and called by their setting. */
function serverOf(connectionString: string): string {
  if (!URL.canParse(connectionString)) return 'store.url';
  const url = new URL(connectionString);
  return `${url.hostname || 'localhost'}:${url.port || 5432}${url.pathname || '/'}`;
}

function passwordOf(connectionString: string): string | undefined {
  if (URL.canParse(connectionString)) return decodeURIComponent(new URL(connectionString).password) || undefined;
  return /(?:^|\s)password\s*=\s*'?([^'\s]+)/.exec(connectionString)?.[1];
}

/** An error's message without the password, should a library ever have put it there. */
function scrubbed(error: unknown, secret: string | undefined): string {
  const message = (error as Error).message || String((error as {code?: unknown}).code ?? error);
  return secret ? message.replaceAll(secret, '[redacted]') : message;
}
