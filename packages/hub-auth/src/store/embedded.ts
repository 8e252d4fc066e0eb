import {setFlagsFromString} from 'node:v8';
import type {StoreConnection} from './sql.js';

/**
 * PostgreSQL's settings in the process. PGlite's default shared_buffers (128 MB of WebAssembly
 * memory, touched at start) is what costs most of its memory; hub-auth's tables are small and
 * read by key, so 1 MB serves them (bench/hub-auth-start.ts measures the start).
 */
const SETTINGS = ['shared_buffers=1MB'];

/**
 * PGlite's WebAssembly compiled by V8's baseline compiler (Liftoff) only, never tiered up to
 * TurboFan: the optimised code of PostgreSQL's whole build is what costs most of the rest of its
 * memory. Measured on a reopen (bench/RESULTS.md, "The store"): the RSS it adds went from 72 to
 * 39 MB, for queries about a fifth slower, which hub-auth's few small queries do not feel. Set
 * only here, before the module is compiled: an instance on a PostgreSQL server keeps V8's default.
 */
const WASM_FLAGS = '--liftoff-only';

/** PostgreSQL in the process (PGlite), its files in `dataDir`: for one instance with nothing else to run. */
export async function openEmbedded(dataDir: string): Promise<StoreConnection> {
  setFlagsFromString(WASM_FLAGS);
  // Loaded only here: an instance on a PostgreSQL server has no use for the WebAssembly build.
  const {PGlite} = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir, {postgresqlconf: SETTINGS});
  return {
    where: `PostgreSQL in the process (PGlite) in ${dataDir}`,
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      return (await db.query<Row>(text, [...params])).rows;
    },
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async <Row extends object>(text: string, params: readonly unknown[] = []) => (await tx.query<Row>(text, [...params])).rows,
        }),
      ),
    listen(channel, listener) {
      // The data directory opens in one process only (data-dir-lock.ts): every change is this
      // one's own, and PGlite tells it at the commit, before the statement's answer.
      db.listen(channel, () => listener.onNotification()).then(
        () => listener.onListening(),
        (error: Error) => listener.onLost(error.message),
      );
    },
    close: () => db.close(),
  };
}
