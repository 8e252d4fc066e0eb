import {execFile} from 'node:child_process';
import {mkdir, readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const {version} = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {version: string};

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

// What a user gets from `npm install -g` of the packed tarballs (hub, and hub-auth for an
// operator), run from another folder with a HOME of its own: the same files a registry would serve
// once the packages are published. Each carries only its own program's dependencies.
describe('the packed packages', () => {
  let sandbox: Sandbox;
  let packed: Packed;
  let packedHubAuth: Packed;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    sandbox = await createSandbox('hub-package');
    // The machine's npm cache, read before HOME changes: the install takes its packages from it
    // (as `npm ci` left them) and asks the registry only for what is missing.
    const cache = (await run('npm', ['config', 'get', 'cache'], {cwd: ROOT})).stdout.trim();
    const tarballs = join(sandbox.dir, 'tarballs');
    prefix = join(sandbox.dir, 'prefix');
    await mkdir(tarballs);
    [packed] = JSON.parse((await run('npm', ['pack', '--json', '--pack-destination', tarballs], {cwd: ROOT})).stdout) as [Packed];
    [packedHubAuth] = JSON.parse(
      (await run('npm', ['pack', '--json', '--workspace', 'hub-auth', '--pack-destination', tarballs], {cwd: ROOT})).stdout,
    ) as [Packed];
    env = {
      ...sandbox.env,
      npm_config_cache: cache,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    const tarballPaths = [packed, packedHubAuth].map((tarball) => join(tarballs, tarball.filename));
    await run('npm', ['install', '--global', '--prefer-offline', '--prefix', prefix, ...tarballPaths], {cwd: sandbox.home, env});
  });

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
