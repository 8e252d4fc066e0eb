/**
 * Why metrics.ts keeps its own per-request counter and histogram instead of prom-client's: the
 * updates one token request makes (the access-token check counted, the request counted by grant
 * and outcome, its latency observed), timed with hub-auth's classes and with prom-client's Counter
 * and Histogram through cached label children (`labels()` once per label set, then `inc`/
 * `observe` on the child, prom-client's fastest use). Prints CPU nanoseconds per request's
 * updates, the median of 5 alternating runs. Argument: the seconds to run in all.
 */
import {performance} from 'node:perf_hooks';
import {Counter, Histogram, Registry} from 'prom-client';
import {LabeledCounter, LatencyHistogram} from '../packages/hub-auth/src/metrics.js';

const seconds = Number(process.argv[2] ?? '5');
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const GRANTS = ['password', 'refresh_token', 'anonymous'];

const own = {
  requests: new LabeledCounter<[string, string]>('r', 'r', ['grant', 'outcome']),
  duration: new LatencyHistogram('d', 'd', BUCKETS),
  checks: new LabeledCounter<[string]>('c', 'c', ['method']),
};
const registry = new Registry();
const prom = {
  requests: new Counter({name: 'r', help: 'r', labelNames: ['grant', 'outcome'], registers: [registry]}),
  duration: new Histogram({name: 'd', help: 'd', labelNames: ['grant'], buckets: BUCKETS, registers: [registry]}),
  checks: new Counter({name: 'c', help: 'c', labelNames: ['method'], registers: [registry]}),
};
const children = new Map<string, unknown>();
function child<T>(key: string, make: () => T): T {
  let found = children.get(key) as T | undefined;
  if (found === undefined) children.set(key, (found = make()));
  return found;
}

function ownRequest(i: number): void {
  const grant = GRANTS[i % 3]!;
  own.checks.inc('cache');
  own.requests.inc(grant, 'issued');
  own.duration.observe(grant, 0.0003 + (i % 7) * 0.0004);
}
function promRequest(i: number): void {
  const grant = GRANTS[i % 3]!;
  child('c:cache', () => prom.checks.labels('cache')).inc();
  child(`r:${grant}:issued`, () => prom.requests.labels(grant, 'issued')).inc();
  child(`d:${grant}`, () => prom.duration.labels(grant)).observe(0.0003 + (i % 7) * 0.0004);
}

function perRequest(update: (i: number) => void, ms: number): number {
  const start = performance.now();
  const cpu = process.cpuUsage();
  let count = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 1000; i++) update(count + i);
    count += 1000;
  }
  const used = process.cpuUsage(cpu);
  return ((used.user + used.system) * 1000) / count;
}

for (const update of [ownRequest, promRequest]) perRequest(update, 300); // untimed: JIT
const runs = {own: [] as number[], promClient: [] as number[]};
for (let round = 0; round < 5; round++) {
  runs.own.push(perRequest(ownRequest, (seconds * 1000) / 10));
  runs.promClient.push(perRequest(promRequest, (seconds * 1000) / 10));
}
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
process.stdout.write(`${JSON.stringify({ownCpuNanoseconds: median(runs.own), promClientCpuNanoseconds: median(runs.promClient)})}\n`);
