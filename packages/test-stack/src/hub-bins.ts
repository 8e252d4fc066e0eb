import {readFileSync} from 'node:fs';
import {mkdir, symlink} from 'node:fs/promises';
import {delimiter, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Each command's name and file, from the "bin" of hub's and hub-auth's package.json, as npm reads them. */
const BINS = Object.fromEntries(
  ['.', 'packages/hub-auth'].flatMap((dir) =>
    Object.entries((JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {bin: Record<string, string>}).bin).map(
      ([name, file]) => [name, join(dir, file)],
    ),
  ),
);

/**
 * hub's commands under their installed names (hub, docker-credential-hub, hub-auth) in `dir`, as
 * `npm install -g` links them: docker finds its credential helper on PATH by that exact name.
 */
export async function linkHubBins(dir: string): Promise<string> {
  await mkdir(dir, {recursive: true});
  for (const [name, file] of Object.entries(BINS)) {
    await symlink(join(ROOT, file), join(dir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  return dir;
}

/** `env` with hub's commands first on PATH, linked into `<dir>/bin`. */
export async function withHubOnPath(dir: string, env: NodeJS.ProcessEnv): Promise<{bin: string; env: NodeJS.ProcessEnv}> {
  const bin = await linkHubBins(join(dir, 'bin'));
  return {bin, env: {...env, PATH: `${bin}${delimiter}${env.PATH}`}};
}
