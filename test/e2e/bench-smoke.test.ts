import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {BENCH_PROGRAMS} from '../../bench/context.js';
import {markdownTable} from '../../bench/report.js';
import {runBench} from '../../bench/run.js';
import type {Summary} from '../../bench/stats.js';
import {e2eEnabled} from '@hub/test-stack/prerequisites';

function expectFinite(summary: Summary, what: string): void {
  expect(summary.samples.length, what).toBeGreaterThan(0);
  for (const value of [summary.median, summary.min, summary.max, ...summary.samples])
    expect(Number.isFinite(value), `${what}: ${value}`).toBe(true);
}

// `npm run bench -- --smoke`: every benchmark once with tiny sizes, so the benchmark cannot rot.
describe.runIf(e2eEnabled(BENCH_PROGRAMS))('the benchmark, in its smoke mode', () => {
  it('measures every figure, each a finite number, and writes them all to the results file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hub-bench-smoke-'));
    try {
      const out = join(dir, 'results.json');
      const results = await runBench({smoke: true, out});

      expect(results.smoke).toBe(true);
      expect(results.machine.cores).toBeGreaterThan(0);
      expect(new Set(results.figures.map((f) => f.benchmark.split(',')[0]))).toEqual(
        new Set([
          'Login',
          'Start-up',
          'Push and pull',
          'Cost of token auth',
          'Cold paths',
          'hub-auth GET /token',
          'hub-auth start',
          'Sessions store on PostgreSQL',
          'Revocation across three hub-auth instances on one PostgreSQL',
          'The web hub beside the registry it reads',
          'Long push and pull',
        ]),
      );
      for (const f of results.figures) {
        const what = `${f.benchmark}: ${f.name}`;
        expectFinite(f.value, what);
        if (f.baseline) {
          expectFinite(f.baseline.value, `${what} (baseline ${f.baseline.name})`);
          expect(Number.isFinite(f.ratio), `${what}: ratio`).toBe(true);
        }
        if (f.target) expect(typeof f.target.met, `${what}: target`).toBe('boolean');
      }
      const b = results.helperBreakdown;
      if (!b) throw new Error('a whole run reports the helper breakdown');
      for (const value of [b.getMs, b.nodeMs, b.importMs, b.keychainReadMs, b.keychainSessionMs]) expect(Number.isFinite(value)).toBe(true);
      expect(b.modules.map((m) => m.module)).toContain('dist/bundle/credential-helper-main.cjs, by require');
      for (const m of b.modules) expect(Number.isFinite(m.ms), m.module).toBe(true);

      expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(results);
      const table = markdownTable(results);
      for (const f of results.figures) expect(table).toContain(f.name);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  }, 600_000);
});
