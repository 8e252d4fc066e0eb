import {existsSync, lstatSync, readlinkSync, realpathSync, statSync} from 'node:fs';
import {readJsonFile, updateJsonFile} from '@hub/common/atomic-json-file';
import {object, recordOf, string, type ShapeOf} from '@hub/common/json-shape';
import {ConfigError} from '../config.js';
import type {Holder} from './requester.js';

/**
 * Which holder (issuer and subject) each account name belongs to. OIDC does not promise that a
 * username is unique, nor that it stays with one person, so the first holder that uses a name
 * keeps it: another subject presenting the same name is refused, and never shares its namespace.
 *
 * The bindings live in one JSON file, written under a lock and renamed into place, so instances
 * that share the file (a shared volume) agree. Each instance keeps the file's contents in memory
 * and looks at the file's inode, size and mtime again once `recheckMs` has passed since it
 * last looked: an operator who removes an entry to release a name is obeyed within a second, by
 * every instance. Looking on every request cost a twelfth of a cached token request (a `stat`
 * call; bench/hub-auth-load.ts, BENCH_CPU_PROFILE), and the second adds nothing an attacker can
 * use: the registry tokens the released name's old holder already has stay valid for their
 * whole lifetime (minutes) anyway. Binding a free name never trusts the memory: it re-reads the
 * file under the lock, so two instances cannot both give it away.
 */

export interface AccountBindings {
  /** True when `account` is `holder`'s (bound now if it was free), false when another's. */
  claim(account: string, holder: Holder): Promise<boolean>;
}

const shape = object({accounts: recordOf(object({issuer: string(), subject: string(), since: string()}))});
type StoredBindings = ShapeOf<typeof shape>;

export interface BindingsOptions {
  /** How long the file's contents are trusted before its inode, size and mtime are looked at again. */
  recheckMs: number;
  /** The clock `recheckMs` is counted on, in milliseconds. */
  nowMs: () => number;
  /**
   * Whether the path may be a symbolic link (accounts.followBindingsSymlink), resolved once at
   * start. By default it may not: whoever can change the link would choose which file hub-auth
   * writes (and a dangling one would be replaced by a file of hub-auth's).
   */
  followSymlink: boolean;
  /** Told at start which file a followed link leads to. */
  onSymlinkFollowed?: (target: string) => void;
}

const DEFAULT_OPTIONS: BindingsOptions = {recheckMs: 1000, nowMs: () => performance.now(), followSymlink: false};

/** Opens (creating it if need be) the bindings file; a file that cannot be written stops the start. */
export async function openAccountBindings(configuredPath: string, given: Partial<BindingsOptions> = {}): Promise<AccountBindings> {
  const options = {...DEFAULT_OPTIONS, ...given};
  let path: string;
  try {
    path = options.followSymlink ? followedPath(configuredPath, options.onSymlinkFollowed) : configuredPath;
  } catch (error) {
    throw new ConfigError(`accounts.bindingsFile: ${(error as Error).message}`);
  }
  const checkNotSymlink = () => refuseSymlink(path);
  let known = {stamp: '', accounts: new Map<string, Holder>()};
  let lookedAt = -Infinity;
  let queue: Promise<unknown> = Promise.resolve();

  async function snapshot(): Promise<{stamp: string; accounts: Map<string, Holder>}> {
    const stamp = stampOf(path);
    const data = (await readJsonFile(path, shape)) ?? {accounts: {}};
    return {stamp, accounts: new Map(Object.entries(data.accounts))};
  }

  async function current(): Promise<Map<string, Holder>> {
    const now = options.nowMs();
    if (now - lookedAt >= options.recheckMs) {
      if (stampOf(path) !== known.stamp) known = await snapshot();
      // Only after a good read: a file broken by an edit is looked at again by every request, and
      // refuses them all until it is fixed, rather than letting the old copy answer meanwhile.
      lookedAt = now;
    }
    return known.accounts;
  }

  /** Changes the file under its lock, then reads it back. */
  async function update(change: (data: StoredBindings) => StoredBindings): Promise<void> {
    await updateJsonFile(
      path,
      shape,
      () => ({accounts: {}}),
      (data) => {
        // Looked at again under the lock, just before the write: a link put there since start is refused too.
        checkNotSymlink();
        return change(data);
      },
    );
    known = await snapshot();
  }

  async function bind(account: string, holder: Holder): Promise<void> {
    // Requests that queued behind the one that bound it need no write of their own.
    if (known.accounts.has(account)) return;
    await update((data) =>
      // Someone else (another instance) may have bound it since we looked: theirs stands.
      Object.hasOwn(data.accounts, account)
        ? data
        : {accounts: {...data.accounts, [account]: {issuer: holder.issuer, subject: holder.subject, since: new Date().toISOString()}}},
    );
  }

  try {
    checkNotSymlink();
    // Written at start so that a path hub-auth cannot write stops it now, not at someone's first login.
    await update((data) => data);
  } catch (error) {
    throw new ConfigError(`accounts.bindingsFile: ${(error as Error).message}`);
  }

  return {
    async claim(account, holder) {
      const held = (await current()).get(account);
      if (held) return sameHolder(held, holder);
      // One binding at a time in this process: the file lock is for other instances.
      const turn = queue.then(() => bind(account, holder));
      queue = turn.catch(() => undefined);
      await turn;
      const bound = known.accounts.get(account);
      return bound !== undefined && sameHolder(bound, holder);
    },
  };
}

function sameHolder(a: Holder, b: Holder): boolean {
  return a.issuer === b.issuer && a.subject === b.subject;
}

function refuseSymlink(path: string): void {
  const target = symlinkTarget(path);
  if (target === undefined) return;
  throw new Error(
    `${path} is a symbolic link (to ${target}): hub-auth does not write its state through one, since whoever can change the link chooses which file it writes. Point accounts.bindingsFile at the file itself, or set accounts.followBindingsSymlink: true if the link is yours.`,
  );
}

/** The file a link that the operator allowed leads to; a link to nothing is refused all the same. */
function followedPath(path: string, onFollowed: BindingsOptions['onSymlinkFollowed']): string {
  const target = symlinkTarget(path);
  if (target === undefined) return path;
  if (!existsSync(path)) {
    throw new Error(
      `${path} is a symbolic link to ${target}, which does not exist (a volume not mounted?): hub-auth creates no state at the far end of a link. Create the file there, or point accounts.bindingsFile at a path of its own.`,
    );
  }
  const real = realpathSync(path);
  onFollowed?.(real);
  return real;
}

/** Where the path links to, or undefined when it is no symbolic link (or does not exist). */
function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function stampOf(path: string): string {
  try {
    const stat = statSync(path, {bigint: true});
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
}
