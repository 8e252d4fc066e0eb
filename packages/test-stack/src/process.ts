import {spawn, type ChildProcess, type SpawnOptions} from 'node:child_process';
import {openSync, closeSync, readFileSync} from 'node:fs';
import {readdir, readFile} from 'node:fs/promises';
import {findProgram} from '@hub/common/find-program';

/** A background program whose output is kept for the error message when it misbehaves. */
export interface Daemon {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * With `logFile`, the program writes its output to that file, as a service would in production:
 * a busy test process reading a pipe would make a chatty program buffer its log in memory.
 */
export function startDaemon(command: string, args: string[], options: SpawnOptions & {logFile?: string} = {}): Daemon {
  const {logFile, ...spawnOptions} = options;
  const fd = logFile === undefined ? undefined : openSync(logFile, 'a', 0o600);
  const child = spawn(command, args, {...spawnOptions, stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd]});
  if (fd !== undefined) closeSync(fd);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('error', (error) => keep(Buffer.from(`spawn failed: ${error.message}\n`)));
  return {
    child,
    output: () => (logFile === undefined ? output : `${readFileSync(logFile, 'utf8')}${output}`),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Waits for a line the program logs; hub-auth writes its log in batches flushed every second. */
export async function waitForOutput(daemon: Daemon, pattern: RegExp | string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const output = daemon.output();
    if (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output)) return output;
    if (Date.now() > deadline) return output;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Reads every process's command line (/proc/PID/cmdline, which any local user can read) over and
 * over until stopped; `stop` resolves with each distinct one seen, arguments joined by spaces.
 */
export function sampleCommandLines(): {stop(): Promise<string[]>} {
  const seen = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const pid of await readdir('/proc').catch(() => [])) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline) seen.add(cmdline.replace(/\0/g, ' ').trim());
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      sampling = false;
      await sampler;
      return [...seen];
    },
  };
}

/** nobody: a local user other than the one the tests run as. */
export const OTHER_USER_UID = 65534;

/** Whether this machine lets the tests act as another local user (root with setpriv, as in CI). */
export function canActAsAnotherUser(): boolean {
  return process.getuid?.() === 0 && findProgram('setpriv') !== undefined;
}

/**
 * Runs an ES module's source as another local user (setpriv, no supplementary groups, an empty
 * environment but PATH), the way a second person on a shared machine runs their own program.
 * The source goes on stdin; stdout is what the program found.
 */
export function runAsAnotherUser(source: string, uid = OTHER_USER_UID): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '--input-type=module', '-'], {
      cwd: '/',
      env: {PATH: process.env.PATH ?? '/usr/bin:/bin'},
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({code, stdout, stderr}));
    child.stdin.end(source);
  });
}
