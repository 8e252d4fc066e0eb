import {existsSync, realpathSync} from 'node:fs';
import {readJsonFile} from '@hub/common/atomic-json-file';
import {object, recordOf, string} from '@hub/common/json-shape';
import {LOCKS} from '../store/migrations.js';
import type {Store} from '../store/open-store.js';

const shape = object({accounts: recordOf(object({issuer: string(), subject: string(), since: string()}))});
const SOURCE = 'accounts.bindingsFile';

export interface ImportedBindings {
  file: string;
  entries: number;
}

/**
 * Brings the bindings file of earlier versions (accounts.bindingsFile) into the store, once: at the
 * first start that finds the file while the store holds no binding and has imported none. The file
 * is left as it was and never written again. It is only read, so a symbolic link there is followed:
 * it cannot make hub-auth write anywhere, and whoever could place it could as well have written the
 * file itself. Instances starting together import it once, under an advisory lock.
 */
export async function importBindingsFile(store: Store, path: string): Promise<ImportedBindings | undefined> {
  if (!existsSync(path)) return undefined;
  return store.transaction(async (sql) => {
    await sql.query('SELECT pg_advisory_xact_lock($1::bigint)', [LOCKS.imports]);
    const [state] = await sql.query<{imported: boolean; bound: boolean}>(
      'SELECT EXISTS (SELECT 1 FROM imports WHERE source = $1) AS imported, EXISTS (SELECT 1 FROM account_bindings) AS bound',
      [SOURCE],
    );
    if (state?.imported || state?.bound) return undefined;
    let data;
    try {
      data = await readJsonFile(path, shape);
    } catch (error) {
      throw new Error(`${SOURCE}: cannot import ${path}: ${(error as Error).message}. Fix the file, or move it away to start without it`);
    }
    const entries = Object.entries(data?.accounts ?? {});
    // One statement for the whole file, its values as arrays: a file of any size is parameters, never SQL text.
    await sql.query(
      `INSERT INTO account_bindings (account, issuer, subject, since)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
       ON CONFLICT (account) DO NOTHING`,
      [entries.map(([name]) => name), entries.map(([, b]) => b.issuer), entries.map(([, b]) => b.subject), entries.map(([, b]) => b.since)],
    );
    await sql.query('INSERT INTO imports (source, entries) VALUES ($1, $2)', [SOURCE, entries.length]);
    return {file: realpathSync(path), entries: entries.length};
  });
}
