import {mkdirSync} from 'node:fs';
import {dirname} from 'node:path';
import {HubError} from './errors.js';

/** Holds a cross-process lock on `path` (which need not exist) until the returned function runs. */
export async function lockFile(path: string): Promise<() => Promise<void>> {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700});
  const {default: lockfile} = await import('proper-lockfile');
  try {
    return await lockfile.lock(path, {
      realpath: false,
      // A holder refreshes the lock every stale/2; a lock older than this was left by a killed process.
      stale: 4000,
      // Short, frequent retries: the lock is held for one small file write, and commands queue behind it.
      retries: {retries: 1000, factor: 1.1, minTimeout: 5, maxTimeout: 60},
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
      throw new HubError(`Cannot lock ${path}: ${(error as Error).message}`, {cause: error});
    }
    throw new HubError(`Another hub process is holding ${path}.lock and did not let go.`, {
      cause: error,
      suggestions: [`If no other hub command is running, remove ${path}.lock and try again.`],
    });
  }
}
