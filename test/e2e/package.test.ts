import {execFile} from 'node:child_process';
import {mkdir, readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {minVersion, satisfies} from 'semver';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {registryAudience} from '@hub/protocol/registry-audience';
import {makeImage} from '@hub/test-stack/docker-engine';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack} from '@hub/test-stack/registry-stack';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const {version, engines} = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {version: string; engines: {node: string}};
/** The oldest Node that `engines` names, which every installed package must run on too. */
const OLDEST_NODE = minVersion(engines.node)!.version;

interface PackedFile {
  path: string;
  size: number;
}
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

/** Runs a program, keeping its exit code instead of throwing on a non-zero one. */
async function runBin(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const child = run(file, args, {env});
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    const {stdout, stderr} = await child;
    return {stdout, stderr, exitCode: 0};
  } catch (error) {
    const failed = error as {stdout: string; stderr: string; code: number};
    return {stdout: failed.stdout, stderr: failed.stderr, exitCode: failed.code};
  }
}

/** The packages installed under a global prefix's package, by name (scoped ones as @scope/name). */
async function installedDependencies(prefix: string, name: string): Promise<string[]> {
  const modules = join(prefix, 'lib', 'node_modules', name, 'node_modules');
  const entries = await readdir(modules).catch(() => [] as string[]);
  const scoped = await Promise.all(
    entries
      .filter((entry) => entry.startsWith('@'))
      .map(async (scope) => (await readdir(join(modules, scope))).map((entry) => `${scope}/${entry}`)),
  );
  return [...entries.filter((entry) => !entry.startsWith('@')), ...scoped.flat()];
}

/** Every package installed under a global prefix's package, nested ones too, with the Node range it declares. */
async function installedEngines(prefix: string, name: string): Promise<{name: string; node: string}[]> {
  const root = join(prefix, 'lib', 'node_modules', name, 'node_modules');
  const manifests = (await readdir(root, {recursive: true})).filter((path) =>
    /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$/.test(`node_modules/${path}`),
  );
  const declared = await Promise.all(
    manifests.map(async (path) => JSON.parse(await readFile(join(root, path), 'utf8')) as {name?: string; engines?: {node?: string}}),
  );
  return declared.flatMap((manifest) =>
    manifest.name && manifest.engines?.node ? [{name: manifest.name, node: manifest.engines.node}] : [],
  );
}

/** A registry that does not answer within this long fails the suite (it is then not reachable). */
const REGISTRY_TIMEOUT_MS = 20_000;
/** Both installs take 15–40 s on a loaded two-core machine, warm cache or cold. */
const INSTALL_TIMEOUT_MS = 240_000;
/** What reaches the registry: a proxy, or the CA of one that intercepts TLS. */
const NETWORK_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'NODE_EXTRA_CA_CERTS'];

/** The npm settings that say where the registry is and how to reach it, and where the cache is. */
const NPM_SETTINGS = ['registry', 'cache', 'userconfig', 'globalconfig', 'proxy', 'https-proxy', 'noproxy', 'cafile', 'strict-ssl'];

/**
 * The machine's npm settings, as npm reads them (npmrc files, npm_config_* variables) before HOME
 * changes, and the variables npm and node reach the network with. The sandbox's environment keeps
 * none of them, and `--prefix` moves the global npmrc: without them npm retries each registry
 * request for minutes (a fresh cache holds none of the full metadata an install resolves versions from).
 */
async function machineNpm(): Promise<{registry: string; env: NodeJS.ProcessEnv}> {
  const {stdout} = await run('npm', ['config', 'get', ...NPM_SETTINGS], {cwd: ROOT});
  const settings = stdout
    .split('\n')
    .map((line) => /^([\w-]+)=(.+)$/.exec(line))
    .filter((match) => match && match[2] !== 'null')
    .map((match) => [`npm_config_${match![1]!.replaceAll('-', '_')}`, match![2]!] as const);
  const network = NETWORK_VARIABLES.filter((name) => process.env[name]).map((name) => [name, process.env[name]] as const);
  const env = Object.fromEntries([...network, ...settings]);
  return {registry: env.npm_config_registry ?? 'the npm registry', env};
}

/** The last lines npm printed, which name the request it was waiting for or what failed. */
function lastLines(output: string, count = 8): string {
  return output.trimEnd().split('\n').slice(-count).join('\n');
}

async function assertRegistryAnswers(registry: string, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  try {
    await run('npm', ['ping', '--fetch-retries=0', `--fetch-timeout=${REGISTRY_TIMEOUT_MS}`], {
      cwd,
      env,
      timeout: REGISTRY_TIMEOUT_MS + 5_000,
    });
  } catch (error) {
    const {stderr = '', killed} = error as {stderr?: string; killed?: boolean};
    throw new Error(
      `npm did not reach ${registry}, where the packed packages' dependencies come from (npm ping with this machine's ` +
        `npm settings, in a fresh HOME${killed ? `: no answer within ${REGISTRY_TIMEOUT_MS / 1000} s` : ''}):\n${lastLines(stderr)}\n` +
        'Check the network, and the proxy or CA npm uses (HTTPS_PROXY, NODE_EXTRA_CA_CERTS, or cafile in your npmrc).',
    );
  }
}

/** `npm install -g`, bounded: past INSTALL_TIMEOUT_MS it is stopped and the error says what npm was fetching. */
async function installGlobally(args: string[], registry: string, env: NodeJS.ProcessEnv, cwd: string) {
  try {
    return await run('npm', ['install', '--global', '--prefer-offline', '--loglevel=http', ...args], {
      cwd,
      env,
      timeout: INSTALL_TIMEOUT_MS,
    });
  } catch (error) {
    const {stderr = '', killed} = error as {stderr?: string; killed?: boolean};
    const what = killed ? `did not finish within ${INSTALL_TIMEOUT_MS / 1000} s` : 'failed';
    throw new Error(`npm install -g of the packed tarballs ${what}, fetching from ${registry}; npm's last lines:\n${lastLines(stderr)}`);
  }
}

// What a user gets from `npm install -g` of the packed tarballs (hub, and hub-auth for an
// operator), run from another folder with a HOME of its own: the same files a registry would serve
// once the packages are published. Each carries only its own program's dependencies.
describe('the packed packages', () => {
  let sandbox: Sandbox;
  let packed: Packed;
  let packedHubAuth: Packed;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  let install: {stdout: string; stderr: string};

  beforeAll(
    async () => {
      sandbox = await createSandbox('hub-package');
      const tarballs = join(sandbox.dir, 'tarballs');
      prefix = join(sandbox.dir, 'prefix');
      await mkdir(tarballs);
      [packed] = JSON.parse((await run('npm', ['pack', '--json', '--pack-destination', tarballs], {cwd: ROOT})).stdout) as [Packed];
      [packedHubAuth] = JSON.parse(
        (await run('npm', ['pack', '--json', '--workspace', 'hub-auth', '--pack-destination', tarballs], {cwd: ROOT})).stdout,
      ) as [Packed];
      const npm = await machineNpm();
      env = {
        ...sandbox.env,
        ...npm.env,
        npm_config_update_notifier: 'false',
        npm_config_fund: 'false',
        npm_config_audit: 'false',
      };
      await assertRegistryAnswers(npm.registry, env, sandbox.home);
      const tarballPaths = [packed, packedHubAuth].map((tarball) => join(tarballs, tarball.filename));
      const started = Date.now();
      install = await installGlobally(['--prefix', prefix, ...tarballPaths], npm.registry, env, sandbox.home);
      console.info(`npm install -g of both tarballs: ${((Date.now() - started) / 1000).toFixed(1)} s (cache ${npm.env.npm_config_cache})`);
    },
    INSTALL_TIMEOUT_MS + REGISTRY_TIMEOUT_MS + 60_000,
  );

  afterAll(async () => {
    await sandbox?.remove();
  });

  it('ships what runs: no source maps, no development entry, a LICENSE', () => {
    const paths = packed.files.map((file) => file.path);
    console.info(`${packed.filename}: ${packed.files.length} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);
    expect(paths.filter((path) => path.endsWith('.map'))).toEqual([]);
    expect(paths).not.toContain('bin/dev.js');
    expect(paths.filter((path) => path.startsWith('src/') || path.startsWith('test/'))).toEqual([]);
    for (const path of [
      'LICENSE',
      'README.md',
      'oclif.manifest.json',
      'bin/run.cjs',
      'bin/docker-credential-hub.cjs',
      'bin/hub-kubelet-credential-provider.cjs',
      'dist/bundle/cli.cjs.v8-cache',
    ]) {
      expect(paths, path).toContain(path);
    }
    console.info(`${packedHubAuth.filename}: ${packedHubAuth.files.map((file) => file.path).join(', ')}`);
    // Its README is the operator guide (npm ships a package's README whatever `files` says).
    expect(packedHubAuth.files.map((file) => file.path).sort()).toEqual([
      'LICENSE',
      'README.md',
      'bin/hub-auth.js',
      'dist/hub-auth.js',
      'package.json',
    ]);
  });

  it(`installs clean on Node ${OLDEST_NODE}: no package wants a newer Node, none has an install script`, async () => {
    // npm checks the Node it runs on (EBADENGINE); the packages must run on the oldest one named too.
    const warnings = install.stderr.split('\n').filter((line) => /EBADENGINE|install-scripts/.test(line));
    expect(warnings).toEqual([]);
    // dockerode's BuildKit and ssh dependencies, which hub's bundle leaves out (scripts/bundle.ts).
    const leftOut = ['dockerode', '@grpc/grpc-js', 'protobufjs', 'ssh2', 'cpu-features'];
    for (const name of ['hub', 'hub-auth']) {
      const engines = await installedEngines(prefix, name);
      expect(engines.length, name).toBeGreaterThan(10);
      expect(
        engines.filter(({node}) => !satisfies(OLDEST_NODE, node)),
        name,
      ).toEqual([]);
      expect(
        (await installedDependencies(prefix, name)).filter((dependency) => leftOut.includes(dependency)),
        name,
      ).toEqual([]);
    }
  });

  it("a hub install pulls in none of the token service's packages, and hub-auth none of the CLI's", async () => {
    const cli = await installedDependencies(prefix, 'hub');
    expect(cli).toContain('@oclif/core');
    expect(cli.filter((name) => ['fastify', 'pino', 'prom-client', '@fastify/formbody', '@peculiar/x509'].includes(name))).toEqual([]);
    const tokenService = await installedDependencies(prefix, 'hub-auth');
    expect(tokenService).toContain('fastify');
    expect(tokenService.filter((name) => ['@oclif/core', 'dockerode', '@napi-rs/keyring', 'open', 'tldts'].includes(name))).toEqual([]);
  });

  it('hub answers --version, --help and status in a fresh HOME', async () => {
    const hub = join(prefix, 'bin', 'hub');
    expect((await runBin(hub, ['--version'], env)).stdout).toContain(`hub/${version}`);
    const help = await runBin(hub, ['--help'], env);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/login/);
    expect(help.stdout).toMatch(/push/);
    // README: status exits 1 when there is no session.
    const status = await runBin(hub, ['status'], env);
    expect(status.stderr).toContain('Not logged in to any registry');
    expect(status.exitCode).toBe(1);
  });

  // The bundle carries dockerode without its BuildKit and ssh modules, and the package no dockerode.
  it.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('the installed hub pushes to a real registry', async () => {
    const stack = await startRegistryStack();
    try {
      const registry = stack.registry.host;
      const reference = `${registry}/alice/from-package:1`;
      await makeImage(stack.env, stack.sandbox.dir, reference);
      const token = await stack.idp.issueOpaqueToken('alice', undefined, registryAudience(registry));
      const ci = {...env, DOCKER_HOST: stack.engine.host, HUB_TOKEN: token, HUB_REGISTRY: registry};
      const push = await runBin(join(prefix, 'bin', 'hub'), ['push', reference, '-q', '--json'], ci);
      expect(push.exitCode, push.stderr + push.stdout).toBe(0);
      expect(JSON.parse(push.stdout)).toMatchObject({reference});
    } finally {
      await stack.stop();
    }
  });

  it('docker-credential-hub speaks the credential-helper protocol', async () => {
    const helper = join(prefix, 'bin', 'docker-credential-hub');
    expect(await runBin(helper, ['list'], env, '')).toMatchObject({stdout: '{}', exitCode: 0});
    // docker's helpers answer a `get` without a server URL with this message on stdout, exit 1.
    expect(await runBin(helper, ['get'], env, '')).toMatchObject({stdout: 'no credentials server URL\n', exitCode: 1});
  });

  it('hub-auth starts and writes signing keys, loading only shipped files', async () => {
    const hubAuth = join(prefix, 'bin', 'hub-auth');
    expect((await runBin(hubAuth, ['--version'], env)).stdout).toContain(`hub-auth/${version}`);
    // keygen is loaded on demand: it shows that lazily loaded file is shipped too.
    const keys = join(sandbox.dir, 'keys');
    const keygen = await runBin(
      hubAuth,
      ['keygen', '--out', keys, '--realm', 'https://auth.example.test/token', '--service', 'registry.example.test'],
      env,
    );
    expect(keygen.exitCode, keygen.stderr).toBe(0);
    expect(keygen.stderr).toContain('wrote');
    expect(await readFile(join(keys, 'signing.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});
