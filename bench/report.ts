import {rename, writeFile} from 'node:fs/promises';
import {cpus, release, totalmem} from 'node:os';
import {ratio, type Summary} from './stats.js';

/**
 * A target is on the ratio when the figure has a baseline (the baseline was measured in the same
 * run, so the machine's speed cancels out), otherwise on the figure itself.
 */
export interface Target {
  op: '<=' | '>=';
  value: number;
  met: boolean;
}

export interface Figure {
  benchmark: string;
  name: string;
  unit: string;
  value: Summary;
  baseline?: {name: string; value: Summary};
  ratio?: number;
  target?: Target;
}

export type FigureSpec = Omit<Figure, 'ratio' | 'target'> & {target?: Omit<Target, 'met'>};

export function figure(spec: FigureSpec): Figure {
  const {target, ...rest} = spec;
  const measuredRatio = spec.baseline && ratio(spec.value, spec.baseline.value);
  const compared = measuredRatio ?? spec.value.median;
  return {
    ...rest,
    ...(measuredRatio === undefined ? {} : {ratio: measuredRatio}),
    ...(target ? {target: {...target, met: target.op === '<=' ? compared <= target.value : compared >= target.value}} : {}),
  };
}

/** What `docker-credential-hub get` spends its time on. All medians, in milliseconds. */
export interface HelperBreakdown {
  /** The whole `get`, as docker runs it, and `node -e 0`: node's own start-up. */
  getMs: number;
  nodeMs: number;
  /** Loading every module `get` loads. */
  importMs: number;
  /** Reading the session from the Secret Service, once everything is loaded. */
  keychainReadMs: number;
  /** Of that read: constructing the keyring addon's entry, which opens a D-Bus connection and a key exchange. */
  keychainSessionMs: number;
  /** What each module adds to the loading, in load order. */
  modules: Array<{module: string; ms: number}>;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  kernel: string;
  memoryGiB: number;
}

export interface BenchResults {
  date: string;
  smoke: boolean;
  durationSeconds: number;
  machine: Machine;
  /**
   * 1, 5 and 15 minute load averages before the run and at its end: on a shared machine, whatever
   * else ran at the same time moved the figures, and this says how much else there was.
   */
  loadAverage: {start: number[]; end: number[]};
  figures: Figure[];
  helperBreakdown?: HelperBreakdown;
}

export function machine(): Machine {
  const cores = cpus();
  return {
    cores: cores.length,
    cpuModel: cores[0]?.model ?? 'unknown',
    node: process.version,
    kernel: release(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

function format(value: number): string {
  if (Number.isInteger(value) || Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

const loads = (averages: number[]) => averages.map((n) => n.toFixed(2)).join('/');
const withUnit = (value: number, unit: string) => (unit ? `${format(value)} ${unit}` : format(value));
const spread = (s: Summary, unit: string) => `${withUnit(s.median, unit)} (${format(s.min)}–${format(s.max)})`;

function describeTarget(f: Figure): string {
  if (!f.target) return '';
  const bound = f.ratio === undefined ? withUnit(f.target.value, f.unit) : `${format(f.target.value)}×`;
  return `${f.target.op === '<=' ? '≤' : '≥'} ${bound}: ${f.target.met ? 'met' : '**missed**'}`;
}

export function markdownTable(results: BenchResults): string {
  const m = results.machine;
  const lines = [
    `${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}; ${results.durationSeconds} s in all; load average ${loads(results.loadAverage.start)} before, ${loads(results.loadAverage.end)} at the end.${results.smoke ? ' SMOKE RUN: tiny sizes, one round; not figures to quote.' : ''}`,
    '',
    '| benchmark | measured | median (min–max) | baseline | median (min–max) | ratio | target |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of results.figures) {
    const baseline = f.baseline ? [f.baseline.name, spread(f.baseline.value, f.unit)] : ['', ''];
    const ratio = f.ratio === undefined ? '' : `${format(f.ratio)}×`;
    lines.push(`| ${[f.benchmark, f.name, spread(f.value, f.unit), ...baseline, ratio, describeTarget(f)].join(' | ')} |`);
  }
  const b = results.helperBreakdown;
  if (!b) return lines.join('\n');
  const parts = b.nodeMs + b.importMs + b.keychainReadMs;
  lines.push(
    '',
    `docker-credential-hub get takes ${format(b.getMs)} ms. Its parts, each timed on its own (medians): node's own start-up (node -e 0) ${format(b.nodeMs)} ms + loading its modules ${format(b.importMs)} ms + reading the session from the Secret Service ${format(b.keychainReadMs)} ms = ${format(parts)} ms. Of that read, ${format(b.keychainSessionMs)} ms is the keyring addon opening its D-Bus connection and Diffie-Hellman session (constructing an entry, before any lookup), which it does for every entry.`,
    '',
    '| module, in load order | import ms (what it adds) |',
    '| --- | --- |',
    ...b.modules.map((entry) => `| ${entry.module} | ${format(entry.ms)} |`),
  );
  return lines.join('\n');
}

/** Written through a temporary file so that an interrupted run never leaves half a results file. */
export async function writeResults(path: string, results: BenchResults): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
