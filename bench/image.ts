import {createHash, randomBytes} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {mkdir, open, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {runCommand} from './commands.js';

export interface BenchImage {
  /** The image ID: it stays the same through push and pull, whatever the image is tagged. */
  id: string;
  bytes: number;
  layers: number;
}

/**
 * A several-layer image of random (incompressible) bytes, made here since nothing can be pulled
 * from outside. `docker import` makes one layer only, so this writes what `docker save` writes —
 * a layer tar per layer, the image config and manifest.json — and `docker load`s it.
 */
export async function loadLayeredImage(env: NodeJS.ProcessEnv, dir: string, layerBytes: number[]): Promise<BenchImage> {
  const root = join(dir, 'image-build');
  const archive = join(root, 'image');
  await mkdir(archive, {recursive: true});
  const layers: string[] = [];
  const diffIds: string[] = [];
  for (const [i, bytes] of layerBytes.entries()) {
    const files = join(root, `files-${i}`);
    await mkdir(join(files, `layer-${i}`), {recursive: true});
    await writeRandomFile(join(files, `layer-${i}`, 'data.bin'), bytes);
    const layer = `layer-${i}/layer.tar`;
    await mkdir(join(archive, `layer-${i}`));
    await runCommand('tar', ['-C', files, '-cf', join(archive, layer), '.'], {env});
    await rm(files, {recursive: true});
    layers.push(layer);
    diffIds.push(`sha256:${await sha256File(join(archive, layer))}`);
  }
  const config = JSON.stringify({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    config: {},
    rootfs: {type: 'layers', diff_ids: diffIds},
    history: layers.map((_, i) => ({created: new Date().toISOString(), created_by: `hub bench layer ${i}`})),
  });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  await writeFile(join(archive, configName), config);
  await writeFile(join(archive, 'manifest.json'), JSON.stringify([{Config: configName, RepoTags: ['hub-bench:latest'], Layers: layers}]));
  const tarball = join(root, 'image.tar');
  await runCommand('tar', ['-C', archive, '-cf', tarball, '.'], {env});
  await runCommand('docker', ['load', '-q', '-i', tarball], {env});
  await rm(root, {recursive: true});
  const id = (await runCommand('docker', ['image', 'inspect', '--format', '{{.Id}}', 'hub-bench:latest'], {env})).trim();
  return {id, bytes: layerBytes.reduce((sum, n) => sum + n, 0), layers: layerBytes.length};
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < bytes;) {
      const chunk = randomBytes(Math.min(8 * 1024 * 1024, bytes - written));
      await file.write(chunk);
      written += chunk.length;
    }
  } finally {
    await file.close();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
