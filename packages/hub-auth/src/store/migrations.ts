import type {StoreConnection} from './sql.js';

/**
 * The store's schema, one version after another; a version, once released, never changes: the
 * next change is a new version. Each statement is one statement (PGlite's parameterised protocol
 * takes no more).
 */
const MIGRATIONS: ReadonlyArray<{version: number; name: string; statements: readonly string[]}> = [
  {
    version: 1,
    name: 'account bindings',
    statements: [
      // The first holder that uses a name keeps it (accounts/bindings.ts): the key makes a second binding impossible.
      `CREATE TABLE account_bindings (
        account text PRIMARY KEY,
        issuer text NOT NULL,
        subject text NOT NULL,
        since timestamptz NOT NULL DEFAULT now()
      )`,
      // What one holder holds: for releasing and revoking by issuer and subject.
      'CREATE INDEX account_bindings_holder ON account_bindings (issuer, subject)',
      // State brought in from elsewhere once (the bindings file of earlier versions), so that it is never brought in twice.
      `CREATE TABLE imports (
        source text PRIMARY KEY,
        entries integer NOT NULL,
        imported_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
];

/**
 * Keys of transaction-scoped advisory locks (pg_advisory_xact_lock): one per kind of work that
 * instances starting together must do one at a time. Released at commit, or when a session dies.
 */
export const LOCKS = {migrations: '7366020917346620001', imports: '7366020917346620002'} as const;

/** Brings the schema up to date, once, whichever of several starting instances gets the lock first; the versions it applied. */
export async function migrate(connection: StoreConnection): Promise<number[]> {
  return connection.transaction(async (sql) => {
    await sql.query('SELECT pg_advisory_xact_lock($1::bigint)', [LOCKS.migrations]);
    await sql.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await sql.query<{version: number}>('SELECT version FROM schema_migrations')).map((row) => row.version));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await sql.query(statement);
      await sql.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}
