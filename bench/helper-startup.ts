/**
 * `npx tsx bench/helper-startup.ts [rounds]`: docker-credential-hub's start-up without the e2e
 * stack, for comparing two builds of the helper quickly: `get` for a registry whose session is in
 * the insecure file and still fresh, so the run reads the settings and the session and answers,
 * with no keychain or network on the way. Figures: the CPU time of the whole process (user +
 * system, which a busy machine inflates less than wall time) and its wall time, each beside
 * `node -e 0`'s. The full start-up benchmark, with the keychain, is bench/startup.ts.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {summarize} from './stats.js';

const HELPER = fileURLToPath(new URL('../bin/docker-credential-hub.cjs', import.meta.url));
const REGISTRY = 'registry.bench.test';
const rounds = Number(process.argv[2]) || 30;

const dir = mkdtempSync(join(tmpdir(), 'hub-helper-startup-'));
try {
  const settings = {issuer: 'https://id.bench.test', clientId: 'hub', scopes: 'openid', storage: 'insecure-file', account: 'alice'};
  writeFileSync(join(dir, 'config.json'), JSON.stringify({registries: {[REGISTRY]: settings}}));
  const session = {
    registry: REGISTRY,
    issuer: settings.issuer,
    clientId: 'hub',
    account: 'alice',
    subject: 'a1',
    accessToken: 'x'.repeat(800),
    expiresAt: 4_000_000_000,
  };
  writeFileSync(join(dir, 'insecure-sessions.json'), JSON.stringify({sessions: {[REGISTRY]: session}}));
  const env = {PATH: process.env.PATH, HOME: dir, HUB_CONFIG_DIR: dir};

  // The child reports its own CPU time as it exits, through a preloaded module.
  const measure = (args: string[], input?: string) => {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, ['--require', join(dir, 'cpu.cjs'), ...args], {env, input, encoding: 'utf8'});
    const wall = Number(process.hrtime.bigint() - started) / 1e6;
    if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr}`);
    return {cpu: Number(/cpu=([\d.]+)/.exec(run.stderr)![1]), wall};
  };
  writeFileSync(
    join(dir, 'cpu.cjs'),
    "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`cpu=${(u.user + u.system) / 1000}\\n`); });",
  );
  const samples = {node: {cpu: [] as number[], wall: [] as number[]}, helper: {cpu: [] as number[], wall: [] as number[]}};
  for (let round = 0; round < rounds + 3; round++) {
    const node = measure(['-e', '0']);
    const helper = measure([HELPER, 'get'], REGISTRY);
    if (round < 3) continue;
    samples.node.cpu.push(node.cpu);
    samples.node.wall.push(node.wall);
    samples.helper.cpu.push(helper.cpu);
    samples.helper.wall.push(helper.wall);
  }
  for (const [name, {cpu, wall}] of Object.entries(samples)) {
    const c = summarize(cpu);
    const w = summarize(wall);
    console.log(
      `${name.padEnd(7)} CPU median ${c.median.toFixed(1)} ms (min ${c.min.toFixed(1)})   wall median ${w.median.toFixed(1)} ms (min ${w.min.toFixed(1)})`,
    );
  }
} finally {
  rmSync(dir, {recursive: true, force: true});
}
