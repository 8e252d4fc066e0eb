import {existsSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {findProgram} from '@hub/common/find-program';
import type {HelperFile} from './config-file.js';

/** The tools that read the containers auth file and would use hub's entry there. */
export const CONTAINERS_TOOLS = ['podman', 'buildah'] as const;

/**
 * The auth file podman, buildah and skopeo write and read first (containers-auth.json(5)), as
 * containers/image picks it: `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`,
 * else `/run/containers/UID/auth.json` on Linux, and `~/.config/containers/auth.json` elsewhere.
 */
export function containersAuthFile(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): HelperFile {
  return {path: containersAuthPath(env, platform), title: 'The containers auth file', tool: 'podman'};
}

function containersAuthPath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (platform !== 'linux') return join(env.HOME || homedir(), '.config', 'containers', 'auth.json');
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return `/run/containers/${process.getuid?.() ?? 0}/auth.json`;
}

/**
 * Whether login should write to the file unasked: only where a containers tool would read it, so
 * that a machine with docker alone gets no stray file.
 */
export function containersToolsPresent(file: HelperFile, env: NodeJS.ProcessEnv): boolean {
  return existsSync(file.path) || CONTAINERS_TOOLS.some((tool) => findProgram(tool, env) !== undefined);
}
