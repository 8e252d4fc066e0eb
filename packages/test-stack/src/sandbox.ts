import {mkdir, mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/**
 * A home of its own for one test file: HOME, the XDG folders and DOCKER_CONFIG all point inside
 * a fresh temporary folder, and nothing of the developer's session (D-Bus, display) leaks in.
 */
export interface Sandbox {
  dir: string;
  home: string;
  configDir: string;
  dockerConfig: string;
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

export async function createSandbox(name = 'hub-e2e'): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  const home = join(dir, 'home');
  const folders = {
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local/state'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    DOCKER_CONFIG: join(home, '.docker'),
  };
  for (const folder of Object.values(folders)) await mkdir(folder, {recursive: true, mode: 0o700});
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    HOME: home,
    ...folders,
    CI: process.env.CI,
  };
  return {
    dir,
    home,
    configDir: join(folders.XDG_CONFIG_HOME, 'hub'),
    dockerConfig: folders.DOCKER_CONFIG,
    env,
    remove: () => rm(dir, {recursive: true, force: true}),
  };
}
