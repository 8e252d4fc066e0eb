import type {StoreConnection} from './sql.js';

/**
 * PostgreSQL's settings in the process. PGlite's default shared_buffers (128 MB of WebAssembly
 * memory, touched at start) is what costs most of its memory; hub-auth's tables are small and
 * read by key, so 1 MB serves them (bench/hub-auth-start.ts measures the start).
 */
const SETTINGS = ['shared_buffers=1MB'];

/** PostgreSQL in the process (PGlite), its files in `dataDir`: for one instance with nothing else to run. */
export async function openEmbedded(dataDir: string): Promise<StoreConnection> {
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
    close: () => db.close(),
  };
}
