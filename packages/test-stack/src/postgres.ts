import {execFile} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {chown, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {existsSync, readdirSync} from 'node:fs';
import {tmpdir, userInfo} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {findProgram} from '@hub/common/find-program';
import {freePort} from './ports.js';

const run = promisify(execFile);

/** Where Debian's `postgresql` package keeps the server's programs (not on PATH): the newest version there, or PATH's. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  const onPath = findProgram('pg_ctl');
  return onPath && join(onPath, '..');
}

/** A real PostgreSQL server of the test's own, on a free loopback port, its files in a temporary folder. */
export interface Postgres {
  /** A connection string for a fresh database of that name, created now (password included). */
  database(name: string): Promise<string>;
  /** The password of the server's one user: to look for it where it must never appear. */
  password: string;
  port: number;
  /** Stops the server (fast shutdown: open connections end), its files kept. */
  stop(): Promise<void>;
  /** Starts it again, on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  remove(): Promise<void>;
}

/**
 * The server refuses to run as root, and CI runs the tests as root: then initdb and pg_ctl run as
 * the `postgres` user (the package's own) or `nobody`, through setpriv, in a folder owned by it.
 */
export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (initdb, pg_ctl): bash scripts/setup.sh installs Debian’s postgresql package');
  const dir = await mkdtemp(join(tmpdir(), 'hub-postgres-'));
  const asUser = await serverUser();
  if (asUser) await chown(dir, asUser.uid, asUser.gid);
  const exec = (program: string, args: string[]) =>
    asUser
      ? run('setpriv', [`--reuid=${asUser.uid}`, `--regid=${asUser.gid}`, '--clear-groups', '--', join(bin, program), ...args], {cwd: dir})
      : run(join(bin, program), args, {cwd: dir});
  const password = randomBytes(12).toString('hex');
  const passwordFile = join(dir, 'password');
  // Read by initdb from a file: a password never goes into a process's arguments, which any local user can read.
  await writeFile(passwordFile, `${password}\n`, {mode: 0o600});
  if (asUser) await chown(passwordFile, asUser.uid, asUser.gid);
  const data = join(dir, 'data');
  await exec('initdb', [
    '-D',
    data,
    '-U',
    'hub',
    `--pwfile=${passwordFile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  await rm(passwordFile);
  const port = await freePort();
  const pgCtl = (action: 'start' | 'stop') =>
    action === 'start'
      ? exec('pg_ctl', [
          '-D',
          data,
          '-l',
          join(dir, 'server.log'),
          '-w',
          '-t',
          '60',
          '-o',
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
          'start',
        ])
      : exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  await pgCtl('start');
  const url = (database: string) => `postgres://hub:${password}@127.0.0.1:${port}/${database}`;
  let running = true;
  const stop = async () => {
    if (!running) return;
    await pgCtl('stop');
    running = false;
  };
  return {
    password,
    port,
    async database(name) {
      const {default: pg} = await import('pg');
      const client = new pg.Client({connectionString: url('postgres')});
      await client.connect();
      try {
        // A name of the test's own choosing, checked here: CREATE DATABASE takes no parameter.
        if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a database name for the tests: ${name}`);
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
    async start() {
      if (running) return;
      await pgCtl('start');
      running = true;
    },
    async remove() {
      await stop().catch(() => undefined);
      await rm(dir, {recursive: true, force: true});
    },
  };
}

async function serverUser(): Promise<{uid: number; gid: number} | undefined> {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
      return {uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim())};
    } catch {
      // no such user here: the next one
    }
  }
  throw new Error('the tests run as root, and PostgreSQL refuses root: no user postgres or nobody to run it as');
}

/** Whether PostgreSQL's programs are here; in CI (CI=true) its suites run anyway, and fail on their absence. */
export function postgresEnabled(): boolean {
  return postgresBinDir() !== undefined || process.env.CI === 'true';
}
