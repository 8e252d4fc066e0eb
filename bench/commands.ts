import {spawn} from 'node:child_process';
import {performance} from 'node:perf_hooks';

export interface CommandRun {
  /** From spawn to exit: what a user or docker waits for. */
  ms: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  env: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** Called with the program's process ID once it runs (e.g. to sample its memory). */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs a program to its end and times it. A failed run throws: a benchmark figure made of error
 * exits would look fast and mean nothing.
 */
export function timeCommand(command: string, args: string[], options: CommandOptions): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, {env: options.env, stdio: ['pipe', 'pipe', 'pipe']});
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    let exitedAt = 0;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.once('exit', () => (exitedAt = performance.now()));
    child.once('error', reject);
    // A program that exits without reading its input closes the pipe: its exit code tells.
    child.stdin.on('error', () => {});
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ms: exitedAt - start, stdout, stderr});
      else
        reject(
          new Error(`${[command, ...args].join(' ')} failed (${signal ?? `exit ${code}`}):\n${stderr.slice(-4000)}${stdout.slice(-2000)}`),
        );
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The same, when only the outcome matters. */
export async function runCommand(command: string, args: string[], options: CommandOptions): Promise<string> {
  return (await timeCommand(command, args, options)).stdout;
}
