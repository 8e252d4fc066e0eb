import {readFileSync} from 'node:fs';
import {HubError} from './errors.js';
import {lockFile} from './file-lock.js';
import type {Shape} from './json-shape.js';

/**
 * JSON files that several hub processes may change at once (the settings, the insecure session
 * file): read-modify-write happens under a lock, and the write goes
 * to a temporary file that is renamed over the old one, so a reader never sees half a file and a
 * crash never leaves one. A file whose contents do not fit its shape is refused, never rewritten.
 */
export async function readJsonFile<T>(path: string, shape: Shape<T>): Promise<T | undefined> {
  let text: string;
  try {
    // Synchronous, like the mkdir in lockFile: these files are small, and node:fs/promises costs
    // docker-credential-hub ~1.5 ms more to load than the read takes.
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HubError(`Cannot read ${path}: ${(error as Error).message}`, {cause: error});
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, (error as Error).message);
  }
  const problem = shape.problem(data);
  if (problem) throw corrupt(path, `${problem.path.join('.') || 'the top level'}: ${problem.message}`);
  return data as T;
}

export async function updateJsonFile<T>(path: string, shape: Shape<T>, empty: () => T, change: (current: T) => T | Promise<T>): Promise<T> {
  const release = await lockFile(path);
  try {
    const next = await change((await readJsonFile(path, shape)) ?? empty());
    const {default: writeFileAtomic} = await import('write-file-atomic');
    await writeFileAtomic(path, `${stringifyOrRefuse(path, next, 2)}\n`, {mode: 0o600});
    return next;
  } finally {
    await release();
  }
}

function corrupt(path: string, detail: string): HubError {
  return new HubError(`${path} is not valid (${detail}); hub left it untouched.`, {
    code: 'corrupt_file',
    suggestions: [`Fix or remove ${path}, then try again.`],
  });
}

/** JSON text for a file, or a HubError when it is nested too deeply to write (the file stays as it was). */
export function stringifyOrRefuse(path: string, value: unknown, indent: string | number): string {
  try {
    return JSON.stringify(value, null, indent);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new HubError(`${path} is nested too deeply for hub to rewrite; hub left it untouched.`, {
      code: 'corrupt_file',
      suggestions: [`Fix ${path} by hand, then try again.`],
    });
  }
}
