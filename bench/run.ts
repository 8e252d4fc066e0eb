/**
 * `npm run bench`: the paths users feel, each against a baseline measured in the same run, as a
 * markdown table on stdout and bench/results.json. `--smoke` (or BENCH_SMOKE=1) runs everything
 * once with tiny sizes, to show the benchmark still works; its figures are not worth quoting.
 * Runs the built bins: `npm run build` first.
 */
import {existsSync} from 'node:fs';
import {loadavg} from 'node:os';
import {performance} from 'node:perf_hooks';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {benchColdPaths} from './cold-paths.js';
import {benchSettings, startBench} from './context.js';
import {benchHubAuthLoad} from './hub-auth-load.js';
import {loadLayeredImage} from './image.js';
import {benchLongTransfer} from './long-transfer.js';
import {benchLogin} from './login.js';
import {machine, markdownTable, writeResults, type BenchResults} from './report.js';
import {benchStartup} from './startup.js';
import {benchStore} from './store.js';
import {benchStoreLoad} from './store-load.js';
import {benchWebHub} from './web-hub.js';
import {benchTokenAuthCost} from './token-auth-cost.js';
import {benchTransfer} from './transfer.js';

export interface BenchOptions {
  smoke: boolean;
  /** Where to write the results as JSON; nothing is written without it. */
  out?: string;
  /** Run only these parts (login always runs: the others use its session). */
  only?: ReadonlySet<Part>;
  log?: (message: string) => void;
}

const BUILT_HELPER = fileURLToPath(new URL('../dist/bundle/credential-helper-main.cjs', import.meta.url));

export const PARTS = [
  'startup',
  'transfer',
  'token-auth-cost',
  'cold-paths',
  'hub-auth',
  'store',
  'store-load',
  'web-hub',
  'long-transfer',
] as const;
export type Part = (typeof PARTS)[number];

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  if (!existsSync(BUILT_HELPER)) throw new Error('the benchmark runs the built bins: run `npm run build` first');
  const started = performance.now();
  const loadAtStart = loadavg();
  const log = options.log ?? ((message: string) => process.stderr.write(`bench: ${message}\n`));
  const settings = benchSettings(options.smoke);
  const ctx = await startBench(settings, log);
  // Ctrl-C reaches the services in the bench's process group, but not the detached keyring.
  const interrupted = (signal: NodeJS.Signals) => void ctx.stop().finally(() => process.kill(process.pid, signal));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    // Login goes first: it leaves alice signed in, and the later benchmarks use that session.
    log('login');
    const figures = await benchLogin(ctx);
    const runs = (part: Part) => !options.only || options.only.has(part);
    let helperBreakdown: BenchResults['helperBreakdown'];
    if (runs('startup')) {
      log('start-up');
      const startup = await benchStartup(ctx);
      figures.push(...startup.figures);
      helperBreakdown = startup.helperBreakdown;
    }
    if (runs('transfer') || runs('token-auth-cost')) {
      log('making the test image');
      const image = await loadLayeredImage(ctx.env, ctx.dir, settings.layerBytes);
      if (runs('transfer')) figures.push(...(await benchTransfer(ctx, image)));
      if (runs('token-auth-cost')) figures.push(...(await benchTokenAuthCost(ctx, image)));
    }
    if (runs('cold-paths')) figures.push(...(await benchColdPaths(ctx)));
    if (runs('hub-auth')) figures.push(...(await benchHubAuthLoad(ctx)));
    if (runs('store')) figures.push(...(await benchStore(ctx)));
    if (runs('store-load')) figures.push(...(await benchStoreLoad(ctx)));
    if (runs('web-hub')) figures.push(...(await benchWebHub(ctx)));
    // Last: it signs in again with short-lived access tokens, and its 1 GB image fills the engine.
    if (runs('long-transfer')) figures.push(...(await benchLongTransfer(ctx)));
    const results: BenchResults = {
      date: new Date().toISOString(),
      smoke: settings.smoke,
      durationSeconds: Math.round((performance.now() - started) / 1000),
      machine: machine(),
      loadAverage: {start: loadAtStart, end: loadavg()},
      figures,
      helperBreakdown,
    };
    if (options.out) await writeResults(options.out, results);
    return results;
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    await ctx.stop();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
  const valueOf = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const only = valueOf('--only')
    ?.split(',')
    .map((name) => {
      if (!(PARTS as readonly string[]).includes(name))
        throw new Error(`unknown part "${name}" in --only: choose from ${PARTS.join(', ')}`);
      return name as Part;
    });
  // A smoke or partial run leaves the full run's results.json alone unless told where to write.
  const out = valueOf('--out') ?? (smoke || only ? undefined : fileURLToPath(new URL('./results.json', import.meta.url)));
  const results = await runBench({smoke, out, only: only && new Set(only)});
  process.stdout.write(`${markdownTable(results)}\n`);
  if (out) process.stderr.write(`bench: results in ${out}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
