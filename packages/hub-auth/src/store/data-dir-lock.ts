import {createConnection, createServer, type Server} from 'node:net';
import {hostname} from 'node:os';
import {join} from 'node:path';
import {readFile, stat, unlink, writeFile} from 'node:fs/promises';
import {setTimeout} from 'node:timers/promises';

/** The embedded store's directory held by this process until `release` (or until it dies). */
export interface DataDirLock {
  release(): Promise<void>;
}

/** Who holds a data directory, as its holder wrote it. */
interface Owner {
  pid: number;
  host: string;
  since: string;
}

const SOCKET = 'hub-auth.lock';
const OWNER = 'hub-auth.lock.owner';
/** Waits for a breaker that is busy (see breakerName): it holds it for a few system calls. */
const ATTEMPTS = 100;
const RETRY_MS = 20;
/** sun_path holds 108 bytes, its last the terminating zero. */
const MAX_SOCKET_PATH = 107;

/**
 * PostgreSQL in the process (PGlite) must be opened by one process only: two would write the same
 * files, each with its own buffers, and corrupt them. The lock is a Unix socket bound in the data
 * directory, chosen over a lock file for what ends it:
 * - a live holder keeps it, however long it does not run (SIGSTOP, a frozen VM, a long GC pause):
 *   the kernel accepts connections to a listening socket on its behalf, so the socket says "held"
 *   without the holder doing anything. A lock that is stale after N seconds without a refresh
 *   (proper-lockfile's) is taken from a holder paused past N, which then writes over the new
 *   holder's state: what hub-auth's bindings file suffered before the store;
 * - a dead holder (exit, crash, SIGKILL) loses it at once: the kernel closes its socket, and a
 *   connection to the socket file left behind is refused, so the next start removes the file and
 *   binds its own. No pid check (pids are reused, and differ across containers sharing a volume).
 * Binding is atomic (EADDRINUSE when the file exists); removing a dead holder's file is not, and is
 * done under a breaker (breakerName).
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const socketPath = join(dir, SOCKET);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH)
    throw new Error(
      `the path of its lock, ${socketPath}, is longer than a Unix socket's ${MAX_SOCKET_PATH} bytes: give store.dataDir a shorter path`,
    );
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const server = await listening(socketPath);
    if (server) return held(dir, server);
    if (await answers(socketPath)) throw new Error(await inUse(dir));
    // Nothing listens: its holder died. Removed under the breaker, and only if still dead then.
    const breaker = await listening(await breakerName(dir));
    if (!breaker) {
      await setTimeout(RETRY_MS);
      continue;
    }
    try {
      if (!(await answers(socketPath))) await unlink(socketPath).catch(() => undefined);
    } finally {
      breaker.close();
    }
  }
  throw new Error(`cannot take the lock ${socketPath}: it is there, and nothing answers on it; remove it if no hub-auth runs on ${dir}`);
}

/**
 * Who may remove a dead holder's socket file, one at a time: without it, a start that found the
 * file dead could remove the socket another start bound a moment later, and both would hold the
 * directory. An abstract socket (Linux: a name, no file) of the directory's device and inode: taken
 * atomically, and gone with its process whatever ends it, so it never needs breaking itself. It is
 * per network namespace: starts in two containers sharing the volume that race over a dead
 * holder's file at the same moment are the one case it does not order.
 */
async function breakerName(dir: string): Promise<string> {
  const {dev, ino} = await stat(dir);
  return `\0hub-auth-store-lock-${dev}-${ino}`;
}

async function held(dir: string, server: Server): Promise<DataDirLock> {
  const owner: Owner = {pid: process.pid, host: hostname(), since: new Date().toISOString()};
  await writeFile(join(dir, OWNER), `${JSON.stringify(owner)}\n`, {mode: 0o600});
  // A connection only asks whether the lock is held: closed at once.
  server.on('connection', (socket) => socket.destroy());
  // The lock does not keep the process alive: what it guards does.
  server.unref();
  return {
    release: () =>
      new Promise<void>((resolve) => {
        // Closing a listening Unix socket removes its file too.
        server.close(() => resolve());
      }).then(() => unlink(join(dir, OWNER)).catch(() => undefined)),
  };
}

/** A server listening on `path`, or undefined when the path is taken. */
function listening(path: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    server.listen(path, () => resolve(server));
  });
}

/** Whether a process listens on the socket: refused (ECONNREFUSED) when its holder is dead. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      ['ECONNREFUSED', 'ENOENT'].includes(error.code ?? '') ? resolve(false) : reject(error),
    );
  });
}

/** The refusal, naming the holder as it wrote itself down (read, never trusted for the decision). */
async function inUse(dir: string): Promise<string> {
  let holder = 'another process (it has not written down who it is yet)';
  try {
    const owner = JSON.parse(await readFile(join(dir, OWNER), 'utf8')) as Owner;
    holder = `another hub-auth, process ${owner.pid} on ${owner.host}, since ${owner.since}`;
  } catch {
    // not written yet, or being written: named as unknown
  }
  return `${dir} is in use by ${holder}. The embedded store (PGlite) opens in one process only: stop that one first, give this one a store.dataDir of its own, or run several instances on a PostgreSQL server (store.url)`;
}
