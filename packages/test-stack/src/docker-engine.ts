import {execFile} from 'node:child_process';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {request} from 'node:http';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {startDaemon} from './process.js';
import {waitFor} from './ports.js';

const run = promisify(execFile);

/**
 * A Docker engine of the test's own: Debian's dockerd with its own data root, exec root and
 * socket, no iptables and no bridge (nothing here runs containers; images are pushed and pulled).
 */
export interface DockerEngine {
  /** DOCKER_HOST for the docker CLI and hub. */
  host: string;
  socket: string;
  stop(): Promise<void>;
}

export async function startDockerEngine(dir: string): Promise<DockerEngine> {
  await mkdir(dir, {recursive: true});
  const socket = join(dir, 'docker.sock');
  const daemon = startDaemon('dockerd', [
    '--storage-driver=vfs',
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    `--data-root=${join(dir, 'data')}`,
    `--exec-root=${join(dir, 'exec')}`,
    `--pidfile=${join(dir, 'docker.pid')}`,
    `--host=unix://${socket}`,
    // Two pushes or pulls at once (hub's and docker's, as the long-transfer test runs them) each
    // as fast as one alone: all layers of a push in flight, three per pull (the default for one).
    '--max-concurrent-uploads=8',
    '--max-concurrent-downloads=6',
  ]);
  try {
    await waitFor('dockerd', () => ping(socket), 60_000);
  } catch (error) {
    await daemon.stop();
    throw new Error(`${(error as Error).message}\n${daemon.output()}`);
  }
  return {host: `unix://${socket}`, socket, stop: () => daemon.stop()};
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({socketPath: socket, path: '/_ping'}, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}

/**
 * An image made here, since nothing can be pulled from outside: `docker import` of a tarball of
 * generated files (`sizeBytes` of random, incompressible content).
 */
export async function makeImage(env: NodeJS.ProcessEnv, dir: string, reference: string, sizeBytes = 64 * 1024): Promise<void> {
  await run('docker', ['import', await rootfsTarball(dir, reference, sizeBytes), reference], {env});
}

/** A tarball of generated files for `docker import` or `podman import`: `sizeBytes` of random, incompressible content. */
export async function rootfsTarball(dir: string, reference: string, sizeBytes = 64 * 1024): Promise<string> {
  const root = join(dir, `rootfs-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await mkdir(join(root, 'data'), {recursive: true});
  const {randomBytes} = await import('node:crypto');
  await writeFile(join(root, 'data', 'blob.bin'), randomBytes(sizeBytes));
  await writeFile(join(root, 'hello.txt'), `made for ${reference} at ${new Date().toISOString()}\n`);
  const tarball = `${root}.tar`;
  await run('tar', ['-C', root, '-cf', tarball, '.']);
  return tarball;
}

/**
 * An image of one layer per entry of `layerSizes`, that many bytes of random content each, by `docker load` of an archive
 * in docker's own format: `docker import` makes one layer, and building needs containers.
 */
export async function makeLayeredImage(env: NodeJS.ProcessEnv, dir: string, reference: string, layerSizes: number[]): Promise<void> {
  const {createHash, randomBytes} = await import('node:crypto');
  const root = join(dir, `image-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const archive = join(root, 'archive');
  await mkdir(archive, {recursive: true});
  const layers: string[] = [];
  const diffIds: string[] = [];
  for (const [index, size] of layerSizes.entries()) {
    const files = join(root, `files-${index}`);
    await mkdir(files, {recursive: true});
    await writeFile(join(files, `layer-${index}.bin`), randomBytes(size));
    const layer = `layer-${index}.tar`;
    await run('tar', ['-C', files, '-cf', join(archive, layer), '.']);
    layers.push(layer);
    diffIds.push(
      `sha256:${createHash('sha256')
        .update(await readFile(join(archive, layer)))
        .digest('hex')}`,
    );
  }
  const architecture = process.arch === 'x64' ? 'amd64' : process.arch;
  await writeFile(
    join(archive, 'config.json'),
    JSON.stringify({architecture, os: 'linux', config: {}, rootfs: {type: 'layers', diff_ids: diffIds}}),
  );
  await writeFile(join(archive, 'manifest.json'), JSON.stringify([{Config: 'config.json', RepoTags: [reference], Layers: layers}]));
  await run('tar', ['-C', archive, '-cf', `${root}.tar`, '.']);
  await run('docker', ['load', '-i', `${root}.tar`], {env});
}

/** `docker ARGS` with `input` on its stdin, as a user types it: its exit code and what it printed, never a throw. */
export function runDocker(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<{code: number; output: string}> {
  return new Promise((resolve) => {
    const child = execFile('docker', args, {env}, (error, stdout, stderr) => {
      resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`});
    });
    child.stdin?.end(input ?? '');
  });
}
