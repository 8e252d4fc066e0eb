/**
 * The one set of SQL hub-auth's state is kept with, and what runs it: PostgreSQL in the process
 * (embedded.ts) or a PostgreSQL server (server.ts). Every value travels as a parameter, never in
 * the text.
 */
export interface Sql {
  query<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** A connection of either kind: the same queries answer the same way on both. */
export interface StoreConnection extends Sql {
  /** `work` in one transaction on one session, committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Where the state is, for logs and errors: never the password. */
  readonly where: string;
  /**
   * Hears `channel`'s notifications (PostgreSQL's LISTEN) until closed. `onListening` once the
   * database is heard, and again after each reconnect; `onLost` when some may have gone unheard
   * (the connection broke): until the next `onListening`, nothing may be taken as unchanged.
   */
  listen(channel: string, listener: NotificationListener): void;
}

export interface NotificationListener {
  onListening(): void;
  onNotification(): void;
  onLost(reason: string): void;
}

/** The store could not answer (the server is down, slow or refused us): the request gets 503, never an answer guessed. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
