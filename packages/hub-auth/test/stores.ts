import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll} from 'vitest';
import {parseConfig, type StoreConfig, type TokenServiceConfig} from '../src/config.js';
import {openStore, type Store} from '../src/store/open-store.js';
import {postgresEnabled, startPostgres, type Postgres} from '@hub/test-stack/postgres';

/** The store's log as the tests read it: each line's fields and message. */
export interface RecordingLogger {
  lines: Array<Record<string, unknown> & {level: string; msg: string}>;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at = (level: string) => (fields: object, msg: string) => void lines.push({...fields, level, msg});
  return {lines, info: at('info'), warn: at('warn'), error: at('error')};
}

/** A configuration with what hub-auth requires and these sections, as hub-auth reads it. */
export function configWith(sections: Record<string, unknown>): TokenServiceConfig {
  return parseConfig({
    service: 's',
    signing: {key: {value: 'k'}, certificate: {value: 'c'}},
    oidc: {issuer: 'https://id.example'},
    client: {clientId: 'c'},
    registry: {host: 'r.example'},
    ...sections,
  });
}

/** store settings as hub-auth reads them from its configuration. */
export function storeConfig(store: Record<string, unknown>): StoreConfig {
  return configWith({store}).store;
}

export const temporaryDir = (name: string) => mkdtempSync(join(tmpdir(), `hub-auth-${name}-`));

/** Each kind of store the suites run on: PGlite in a temporary folder, and a real PostgreSQL server where its programs are (always in CI). */
export interface StoreBackend {
  kind: 'embedded' | 'server';
  /** A store with an empty schema of its own: a new data directory, or a new database. */
  fresh(logger?: RecordingLogger, settings?: Record<string, unknown>): Promise<Store>;
  /** Two connections to one fresh state, as two instances have (PGlite's directory opens in one place only: the same one twice). */
  twice(): Promise<[Store, Store]>;
  /** The server, for the outage tests (server only). */
  server?: () => Promise<Postgres>;
}

let postgres: Promise<Postgres> | undefined;
let databases = 0;

const serverStarted = () => {
  postgres ??= startPostgres();
  return postgres;
};

afterAll(async () => {
  if (postgres) await (await postgres).remove();
});

async function onServer(count: number, logger = recordingLogger(), settings = {}): Promise<Store[]> {
  const url = await (await serverStarted()).database(`store_${process.pid}_${++databases}`);
  const stores = await Promise.all(
    Array.from({length: count}, () => openStore(storeConfig({url, statementTimeoutSeconds: 2, ...settings}), logger)),
  );
  await Promise.all(stores.map((store) => store.ready()));
  return stores;
}

export const embedded: StoreBackend = {
  kind: 'embedded',
  fresh: (logger = recordingLogger(), settings = {}) => openStore(storeConfig({dataDir: temporaryDir('store'), ...settings}), logger),
  async twice() {
    const store = await embedded.fresh();
    return [store, store];
  },
};

export const server: StoreBackend = {
  kind: 'server',
  async fresh(logger = recordingLogger(), settings = {}) {
    return (await onServer(1, logger, settings))[0]!;
  },
  async twice() {
    const [one, two] = await onServer(2);
    return [one!, two!];
  },
  server: serverStarted,
};

/** PostgreSQL's programs are missing here and this is no CI run: its suites are skipped, said by vitest. */
export const BACKENDS: StoreBackend[] = postgresEnabled() ? [embedded, server] : [embedded];

/** Closes each store once: PGlite's two "instances" from twice() are one store (its directory opens once); unopened ones are skipped. */
export async function closeStores(stores: ReadonlyArray<Store | undefined> | undefined): Promise<void> {
  await Promise.all([...new Set(stores)].map((store) => store?.close()));
}

/** Empties the tables between tests that share one store (a new PGlite data directory costs seconds). */
export async function emptied(store: Store): Promise<Store> {
  await store.query(
    'TRUNCATE account_bindings, imports, sessions, identity_tokens, events, logout_tokens, web_sessions, registry_events, repository_pulls',
  );
  return store;
}

/** `store` with each statement it is sent counted: to show what a burst of requests asks of the database. */
export function countingStatements(store: Store): {store: Store; sent: (statement: RegExp) => number} {
  const texts: string[] = [];
  const counted: Store = {...store, query: (text, params) => (texts.push(text), store.query(text, params))};
  return {store: counted, sent: (statement) => texts.filter((text) => statement.test(text)).length};
}
