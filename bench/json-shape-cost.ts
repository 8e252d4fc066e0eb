/**
 * `npx tsx bench/json-shape-cost.ts [rounds]`: what checking hub's settings file costs a fresh
 * process — the question behind src/files/json-shape.ts. docker-credential-hub loads its checks
 * on every docker operation, so the figure that matters is load + build + one check of a
 * hub-written file, in a new node, bundled by esbuild as the helper is (scripts/bundle.ts).
 * Compared: an empty module (the floor), the settings description of src/config/settings.ts, and the same
 * description in zod/mini and in zod. Not part of `npm run bench`: a measured choice, kept so it
 * can be measured again when zod changes.
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';
import {summarize} from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[2]) || 30;
const FILE = {
  registries: {
    'registry.example.com': {issuer: 'https://id.example.com', clientId: 'hub', scopes: 'openid', storage: 'keychain', account: 'alice'},
  },
};

const zodSettings = (z: string, min: string, optional: (s: string) => string) => `
  const registry = z.object({
    issuer: z.url(), clientId: z.string()${min}, scopes: z.string()${min}, audience: ${optional(`z.string()${min}`)},
    storage: z.enum(['keychain', 'insecure-file']), account: ${optional('z.string()')}, dockerConfig: ${optional('z.string()')},
  });
  const settings = z.object({registries: z.record(z.string(), registry)});
  export const ok = (data: unknown) => settings.safeParse(data).success;
  // ${z}`;

const variants: Record<string, string | undefined> = {
  'node (floor)': undefined,
  'json-shape (hub)': `import {matches} from ${JSON.stringify(join(ROOT, 'src/files/json-shape.ts'))};
    import {settingsFile} from ${JSON.stringify(join(ROOT, 'src/config/settings.ts'))};
    export const ok = (data: unknown) => matches(settingsFile, data);`,
  'zod/mini': `import * as z from 'zod/mini';${zodSettings('mini', '.check(z.minLength(1))', (s) => `z.optional(${s})`)}`,
  zod: `import {z} from 'zod';${zodSettings('classic', '.min(1)', (s) => `${s}.optional()`)}`,
};

const folder = mkdtempSync(join(tmpdir(), 'hub-json-shape-cost-'));
try {
  const scripts = new Map<string, string>();
  for (const [name, source] of Object.entries(variants)) {
    const out = join(folder, `${scripts.size}.cjs`);
    if (source === undefined) writeFileSync(out, '');
    else {
      const entry = join(folder, `${scripts.size}.ts`);
      writeFileSync(entry, source);
      await build({
        entryPoints: [entry],
        outfile: out,
        bundle: true,
        format: 'cjs',
        platform: 'node',
        target: 'node20',
        logLevel: 'warning',
        nodePaths: [join(ROOT, 'node_modules')],
      });
    }
    scripts.set(name, out);
  }
  // Each run reports the CPU time from before the require to the check's answer: node's own
  // start-up, the same for all, stays out, and CPU time (not wall time) holds on a busy machine.
  const probe = (script: string) =>
    `const t = process.cpuUsage(); const m = require(${JSON.stringify(script)}); if (m.ok && !m.ok(${JSON.stringify(FILE)})) process.exit(1); const d = process.cpuUsage(t); process.stdout.write(String((d.user + d.system) / 1000))`;
  const samples = new Map([...scripts.keys()].map((name) => [name, [] as number[]]));
  for (let round = 0; round < rounds + 3; round++) {
    for (const [name, script] of scripts) {
      const ms = Number(execFileSync(process.execPath, ['-e', probe(script)], {encoding: 'utf8'}));
      if (round >= 3) samples.get(name)!.push(ms);
    }
  }
  for (const [name, values] of samples) {
    const {median, min} = summarize(values);
    console.log(`${name.padEnd(18)} load + check, CPU: median ${median.toFixed(2)} ms (min ${min.toFixed(2)})`);
  }
} finally {
  rmSync(folder, {recursive: true, force: true});
}
