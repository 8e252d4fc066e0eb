import {readFile, writeFile} from 'node:fs/promises';
import {cpus} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {Daemon} from '@hub/test-stack/process';
import {runCommand} from './commands.js';
import type {BenchContext} from './context.js';
import type {LoadPlan, LoadResult} from './load-client.js';

/**
 * A server under load on one core, the load generator (load-client.ts) on the other: what a
 * request costs the server is then its CPU time, whatever else the machine runs.
 */
export const SERVER_CORE = '0';
const CLIENT_CORE = '1';
const LOAD_CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));

/** The bench's TypeScript children run through tsx, like `npm run bench` itself. */
export const tsx = (script: string, args: string[]) => [process.execPath, '--import', 'tsx', script, ...args];

export function assertTwoCores(what: string): void {
  if (cpus().length < 2) throw new Error(`${what} needs two cores: one for the server, one for the load generator`);
}

/** Every thread of the daemon (libuv's pool too) onto the server's core, so that it has exactly one. */
export async function pin(ctx: BenchContext, daemon: Daemon): Promise<void> {
  await runCommand('taskset', ['--all-tasks', '--cpu-list', '--pid', SERVER_CORE, String(daemon.child.pid)], {env: ctx.env});
}

/**
 * `perCpuSecond`: requests answered per second of CPU the server used (all its threads). On a
 * machine shared with other work the load generator may not keep the server busy, and requests/s
 * then measure the generator; what a request costs the server does not depend on that.
 */
export type MeasuredLoad = LoadResult & {peakRssMb: number; perCpuSecond: number};

/** One load run from the pinned load generator, with the server's (process `pid`) peak RSS and CPU time during it. */
export async function runLoad(ctx: BenchContext, pid: number, plan: LoadPlan): Promise<MeasuredLoad> {
  // Writing 5 to clear_refs resets the kernel's peak-RSS mark, so VmHWM afterwards is this run's peak.
  await writeFile(`/proc/${pid}/clear_refs`, '5');
  const planFile = join(ctx.dir, 'load-plan.json');
  await writeFile(planFile, JSON.stringify(plan));
  const cpuBefore = await cpuSecondsOf(pid);
  const result = JSON.parse(
    await runCommand('taskset', ['--cpu-list', CLIENT_CORE, ...tsx(LOAD_CLIENT, [planFile])], {env: ctx.env}),
  ) as LoadResult;
  const cpuSeconds = (await cpuSecondsOf(pid)) - cpuBefore;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const peakKb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  // The kernel counts CPU time in ticks: a run too short to be charged one counts as one.
  return {...result, peakRssMb: peakKb / 1024, perCpuSecond: result.requests / Math.max(cpuSeconds, 1 / CLOCK_TICKS)};
}

/** USER_HZ, in which /proc reports CPU time; 100 on every Linux architecture node runs on. */
const CLOCK_TICKS = 100;

/** User and system CPU time of every thread of process `pid`, in seconds (proc(5): fields 14 and 15 of stat). */
async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
