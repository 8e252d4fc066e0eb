import {writeFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {runCommand, timeCommand} from './commands.js';
import type {BenchContext} from './context.js';
import {figure, type Figure, type HelperBreakdown} from './report.js';
import {summarize, type Summary} from './stats.js';

const BENCHMARK = 'Start-up';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HELPER_BIN = fileURLToPath(new URL('../bin/docker-credential-hub.cjs', import.meta.url));
/** Where the docker-credential-secretservice baseline keeps its secret: a server hub knows nothing of. */
const SECRETSERVICE_SERVER = 'https://secretservice.bench.test';

const KUBELET_PROVIDER = 'hub-kubelet-credential-provider';

/** What the kubelet sends before a pod of the bench's cluster starts: an image in its robot's namespace, and the pod's token. */
function kubeletRequest(ctx: BenchContext): string {
  return JSON.stringify({
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
    kind: 'CredentialProviderRequest',
    image: `${ctx.registryHost}/workloads/cluster/bench/puller/app:1`,
    serviceAccountToken: ctx.podToken,
    serviceAccountAnnotations: {},
  });
}

interface Command {
  name: string;
  command: string;
  args: string[];
  input?: string;
}

/**
 * Whole runs of the commands as users (and docker) start them, by their installed names,
 * interleaved so that drift in the machine's speed touches every command alike.
 */
export async function benchStartup(ctx: BenchContext): Promise<{figures: Figure[]; helperBreakdown: HelperBreakdown}> {
  const {env, settings} = ctx;
  const helperAnswer = JSON.parse(await runCommand('docker-credential-hub', ['get'], {env, input: ctx.registryHost})) as {Secret?: string};
  if (!helperAnswer.Secret) throw new Error('docker-credential-hub get gave no secret: is alice logged in?');
  // The baseline reads a secret of the same size from the same Secret Service.
  await runCommand('docker-credential-secretservice', ['store'], {
    env,
    input: JSON.stringify({ServerURL: SECRETSERVICE_SERVER, Username: 'alice', Secret: helperAnswer.Secret}),
  });

  const commands: Command[] = [
    {name: 'node -e 0', command: process.execPath, args: ['-e', '0']},
    {name: 'hub --version', command: 'hub', args: ['--version']},
    {name: 'hub status', command: 'hub', args: ['status']},
    {name: 'docker-credential-hub get', command: 'docker-credential-hub', args: ['get'], input: ctx.registryHost},
    {name: 'docker-credential-secretservice get', command: 'docker-credential-secretservice', args: ['get'], input: SECRETSERVICE_SERVER},
    {name: KUBELET_PROVIDER, command: KUBELET_PROVIDER, args: [], input: kubeletRequest(ctx)},
  ];
  const samples = new Map<string, number[]>(commands.map((c) => [c.name, []]));
  const runs = settings.startupWarmups + settings.startupRounds;
  for (let round = 0; round < runs; round++) {
    // Each round starts with another command, so that none always runs right after the same one.
    for (let i = 0; i < commands.length; i++) {
      const c = commands[(round + i) % commands.length]!;
      const {ms} = await timeCommand(c.command, c.args, {env, input: c.input});
      if (round >= settings.startupWarmups) samples.get(c.name)!.push(ms);
    }
  }
  const measured = (name: string): Summary => summarize(samples.get(name)!);
  const node = {name: 'node -e 0', value: measured('node -e 0')};
  const secretservice = {name: 'docker-credential-secretservice get', value: measured('docker-credential-secretservice get')};
  const helper = measured('docker-credential-hub get');
  const figures = [
    figure({
      benchmark: BENCHMARK,
      name: 'docker-credential-hub get',
      unit: 'ms',
      value: helper,
      baseline: node,
      target: {op: '<=', value: 1.5},
    }),
    figure({benchmark: BENCHMARK, name: 'docker-credential-hub get', unit: 'ms', value: helper, baseline: secretservice}),
    figure({
      benchmark: BENCHMARK,
      name: 'hub --version',
      unit: 'ms',
      value: measured('hub --version'),
      baseline: node,
      target: {op: '<=', value: 2},
    }),
    figure({
      benchmark: BENCHMARK,
      name: 'hub status',
      unit: 'ms',
      value: measured('hub status'),
      baseline: node,
      target: {op: '<=', value: 2},
    }),
    // Two loopback requests beside start-up (the registry's challenge, hub-auth's pull token), which node -e 0 does not make.
    figure({benchmark: BENCHMARK, name: KUBELET_PROVIDER, unit: 'ms', value: measured(KUBELET_PROVIDER), baseline: node}),
  ];
  const helperBreakdown = await breakDownHelper(ctx, helper.median, node.value.median);
  return {figures, helperBreakdown};
}

/**
 * Times loading each module in a plain node (a TypeScript loader would be timed too), the way
 * `get` loads it — ESM by import(), CommonJS by require(), which costs less than importing it —
 * dependencies before their importers, so each time is what that module adds by itself. An
 * empty module goes first, untimed: the first file a node imports pays for setting up the loader,
 * which `get` pays for its bin script, outside this list.
 */
const IMPORT_PROBE = `
import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';
const require = createRequire(import.meta.url);
await import(pathToFileURL(process.argv[2]).href);
const times = [];
for (const {path, loader} of JSON.parse(process.argv[1])) {
  const start = performance.now();
  if (loader === 'require') require(path);
  else await import(pathToFileURL(path).href);
  times.push(performance.now() - start);
}
process.stdout.write(JSON.stringify(times));
`;

/**
 * The same Secret Service read `get` makes, timed inside a node that has already loaded
 * everything; and, in that node, what constructing an entry of the keyring addon alone costs: on
 * Linux each construction opens a new D-Bus connection and a Diffie-Hellman session with the
 * Secret Service (dbus-secret-service-keyring-store), before any lookup.
 */
const KEYCHAIN_PROBE = `
import {createRequire} from 'node:module';
const {AsyncEntry} = createRequire(import.meta.url)(process.argv[3]);
const {KeychainStore} = await import(process.argv[1]);
const start = performance.now();
if (!(await new KeychainStore().read(process.argv[2], process.argv[4]))) throw new Error('no session in the keychain');
const read = performance.now() - start;
const constructed = performance.now();
new AsyncEntry('hub-bench-probe', 'none');
process.stdout.write(JSON.stringify({read, session: performance.now() - constructed}));
`;
const KEYRING_ADDON = createRequire(import.meta.url).resolve('@napi-rs/keyring');

interface LoadedModule {
  path: string;
  loader: 'import' | 'require';
}

/**
 * Which modules a real `get` loads, in load order: with NODE_DEBUG, node's ESM loader names each
 * module as it translates it and the CommonJS loader each file it loads.
 */
async function modulesLoadedByGet(ctx: BenchContext): Promise<LoadedModule[]> {
  const {stderr} = await timeCommand('docker-credential-hub', ['get'], {
    env: {...ctx.env, NODE_DEBUG: 'esm,module'},
    input: ctx.registryHost,
  });
  const loaded = new Map<string, LoadedModule>();
  for (const [, url, path] of stderr.matchAll(/Translating \w+ (file:\/\/\S+)|load "(\/[^"]+)" for module/g)) {
    const module: LoadedModule = url ? {path: fileURLToPath(url), loader: 'import'} : {path: path!, loader: 'require'};
    if (!loaded.has(module.path)) loaded.set(module.path, module);
  }
  // The bin script itself runs `get` when loaded; its own code is two lines.
  loaded.delete(HELPER_BIN);
  return [...loaded.values()];
}

async function breakDownHelper(ctx: BenchContext, getMs: number, nodeMs: number): Promise<HelperBreakdown> {
  const loadOrder = await modulesLoadedByGet(ctx);
  // Reverse load order puts each module after the modules it loads (they are first loaded after it).
  const probeOrder = [...loadOrder].reverse();
  const perModule = new Map<string, number[]>(loadOrder.map((m) => [m.path, []]));
  const totals: number[] = [];
  const keychainReads: number[] = [];
  const keychainSessions: number[] = [];
  const keychain = new URL('../src/store/keychain.ts', import.meta.url).href;
  const empty = join(ctx.dir, 'empty.mjs');
  await writeFile(empty, '');
  for (let round = 0; round < ctx.settings.importRounds; round++) {
    const times = JSON.parse(
      await runCommand(process.execPath, ['--input-type=module', '-e', IMPORT_PROBE, JSON.stringify(probeOrder), empty], {env: ctx.env}),
    ) as number[];
    probeOrder.forEach((m, i) => perModule.get(m.path)!.push(times[i]!));
    totals.push(times.reduce((sum, ms) => sum + ms, 0));
    const probe = JSON.parse(
      await runCommand(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', KEYCHAIN_PROBE, keychain, ctx.registryHost, KEYRING_ADDON, 'alice'],
        {env: ctx.env},
      ),
    ) as {read: number; session: number};
    keychainReads.push(probe.read);
    keychainSessions.push(probe.session);
  }
  return {
    getMs,
    nodeMs,
    importMs: summarize(totals).median,
    keychainReadMs: summarize(keychainReads).median,
    keychainSessionMs: summarize(keychainSessions).median,
    modules: loadOrder.map((m) => ({module: displayName(m), ms: summarize(perModule.get(m.path)!).median})),
  };
}

function displayName({path, loader}: LoadedModule): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  const name = inPackage ? `${inPackage[1]} (${inPackage[2]})` : path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
  return loader === 'require' ? `${name}, by require` : name;
}
