import {homedir} from 'node:os';
import {join} from 'node:path';

/**
 * Where hub keeps its files: the same folder oclif gives the CLI as `config.configDir`, computed
 * here so that the credential helper can find it without loading oclif.
 */
export function hubConfigDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.HUB_CONFIG_DIR) return env.HUB_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || (platform === 'win32' && env.LOCALAPPDATA) || join(env.HOME || homedir(), '.config');
  return join(base, 'hub');
}

export interface HubPaths {
  dir: string;
  /** Settings per registry: issuer, client id, scopes, where the tokens are kept. */
  settings: string;
  /** Sessions kept in a plain file, only after `--insecure-storage`. */
  insecureSessions: string;
  /** Lock files that serialise token refreshes across processes. */
  locks: string;
}

export function hubPaths(dir: string): HubPaths {
  return {
    dir,
    settings: join(dir, 'config.json'),
    insecureSessions: join(dir, 'insecure-sessions.json'),
    locks: join(dir, 'locks'),
  };
}
