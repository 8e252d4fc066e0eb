import {execFile} from 'node:child_process';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {rootfsTarball} from './docker-engine.js';

export const CONTAINERS_PROGRAMS = ['podman', 'buildah'];

/** What a podman or buildah run printed, with its exit code. */
export interface ToolResult {
  code: number;
  output: string;
}

/**
 * Debian's podman and buildah as root, on storage of their own (vfs: no overlay mounts inside a
 * test machine's container), with their own run root and nothing from the host's storage, so
 * that each test starts from no images. They share the storage, as they do on a real machine.
 */
export interface ContainersTools {
  podman(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<ToolResult>;
  buildah(args: string[]): Promise<ToolResult>;
  /** An image made here with `podman import`, since nothing can be pulled from outside. */
  makeImage(reference: string): Promise<void>;
}

export async function containersTools(dir: string, env: NodeJS.ProcessEnv): Promise<ContainersTools> {
  const storage = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  await mkdir(dir, {recursive: true});
  // No systemd or journald in a test machine: cgroups and events without them.
  const podman = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runTool('podman', [...storage, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args], {...env, ...extraEnv});
  const buildah = (args: string[]) => runTool('buildah', [...storage, ...args], env);
  return {
    podman,
    buildah,
    makeImage: async (reference) => {
      const imported = await podman(['import', await rootfsTarball(dir, reference), reference]);
      if (imported.code !== 0) throw new Error(`podman import failed: ${imported.output}`);
    },
  };
}

function runTool(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(program, args, {env, timeout: 120_000}, (error, stdout, stderr) =>
      resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`}),
    );
  });
}
