import {spawn, type ChildProcess} from 'node:child_process';
import {fileURLToPath} from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/run.cjs', import.meta.url));
/** The built commands through oclif alone, without bin/run.cjs's answers that skip it. */
const THROUGH_OCLIF = [
  '-e',
  `require(${JSON.stringify(fileURLToPath(new URL('../../../dist/bundle/cli.cjs', import.meta.url)))}).run(process.argv.slice(1))`,
  '--',
];

export interface HubResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Everything any hub process printed in this test file: the secret-leak checks read it. */
export const transcript: HubResult[] = [];

export type RunningHub = Promise<HubResult> & {child: ChildProcess};

/** Runs the built `hub` as a user would, in its own process. */
export function runHub(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: {
    input?: string;
    timeoutMs?: number;
    onStderr?: (text: string) => void;
    throughOclif?: boolean;
    /** Run as this local user (setpriv, no supplementary groups), for folders root could write anyway. */
    uid?: number;
  } = {},
): RunningHub {
  const node = [process.execPath, ...(options.throughOclif ? THROUGH_OCLIF : [BIN]), ...args];
  const asUser = options.uid === undefined ? [] : ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups'];
  const [command, ...commandArgs] = [...asUser, ...node] as [string, ...string[]];
  const child = spawn(command, commandArgs, {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const done = new Promise<HubResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      options.onStderr?.(stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const result = {code, stdout, stderr};
      transcript.push(result);
      resolve(result);
    });
    child.stdin.end(options.input ?? '');
  });
  return Object.assign(done, {child});
}
