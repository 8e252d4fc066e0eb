import {mkdirSync, readFileSync} from 'node:fs';
import {dirname} from 'node:path';
import type {z} from 'zod';
import {HubError} from './errors.js';

/**
 * JSON files that several hub processes may change at once (the settings, the insecure session
 * file): read-modify-write happens under a lock, and the write goes to a temporary file that is
 * renamed over the old one, so a reader never sees half a file and a crash never leaves one.
 */

/**
 * How a file's contents are checked. docker-credential-hub reads hub's files on every docker
 * operation, and loading zod costs more than the rest of its start-up: a file that passes the cheap
 * check of the fields hub reads (as every file hub wrote does) is taken as it is, and the full
 * schema is loaded only to say exactly what is wrong with one that does not.
 */
export interface JsonShape<T> {
  looksValid(data: unknown): data is T;
  schema(): Promise<z.ZodType<T>>;
}

export async function readJsonFile<T>(path: string, shape: JsonShape<T>): Promise<T | undefined> {
  let text: string;
  try {
    // Synchronous, like the mkdir below: these files are small, and node:fs/promises costs
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
  if (shape.looksValid(data)) return data;
  const parsed = (await shape.schema()).safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(path, `${issue?.path.join('.') || 'the top level'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export async function updateJsonFile<T>(
  path: string,
  shape: JsonShape<T>,
  empty: () => T,
  change: (current: T) => T | Promise<T>,
): Promise<T> {
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

/** For the cheap checks: a plain object, not an array or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isOptional<T>(value: unknown, check: (v: unknown) => v is T): value is T | undefined {
  return value === undefined || check(value);
}

export const isString = (value: unknown): value is string => typeof value === 'string';
export const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
