import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';

const run = promisify(execFile);
const CHECKOUT = fileURLToPath(new URL('..', import.meta.url));
/** Built previous versions, one folder a commit, kept between runs (gitignored). */
const PREVIOUS = join(CHECKOUT, 'bench', '.previous');

/**
 * The version before issue #23, as "today's rate" in the issue means it: stateless identity
 * tokens and the account bindings in a JSON file.
 */
export const BEFORE_THE_STORE = '347d749';

export interface PreviousBuild {
  commit: string;
  /** Its bin/hub-auth.js, which runs against its own built dist/hub-auth.js. */
  hubAuthBin: string;
}

/**
 * hub-auth as built at `commit`, beside this checkout, so that one run measures both: its
 * sources by `git archive`, its dependencies as below, and its own `npm run bundle`. Built once
 * and kept in bench/.previous/COMMIT.
 */
export async function previousBuild(commit: string, log: (message: string) => void): Promise<PreviousBuild> {
  const full = await run('git', ['-C', CHECKOUT, 'rev-parse', '--verify', '--quiet', `${commit}^{commit}`]).then(
    ({stdout}) => stdout.trim(),
    () => {
      throw new Error(
        `the benchmark measures hub-auth against the version before the store, commit ${commit}, which this clone does not have: fetch the history (git fetch --unshallow, or actions/checkout with fetch-depth: 0)`,
      );
    },
  );
  const dir = join(PREVIOUS, full);
  const hubAuthBin = join(dir, 'packages', 'hub-auth', 'bin', 'hub-auth.js');
  const built = join(dir, '.built');
  if (existsSync(built)) return {commit: full, hubAuthBin};

  log(`building hub-auth as of ${commit} in ${dir}`);
  await rm(dir, {recursive: true, force: true});
  await mkdir(dir, {recursive: true});
  await run('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', CHECKOUT, full, dir]);
  if (await sameDependencies(dir)) await linkDependencies(dir);
  else {
    log(`its dependencies differ from this checkout's: npm ci in ${dir}`);
    await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {cwd: dir, maxBuffer: 64 * 1024 * 1024});
  }
  await run(process.execPath, ['--import', 'tsx', 'scripts/bundle.ts'], {cwd: dir, maxBuffer: 64 * 1024 * 1024});
  await writeFile(built, `${new Date().toISOString()}\n`);
  return {commit: full, hubAuthBin};
}

type Lock = {packages: Record<string, {version?: string; link?: boolean}>};

/** Whether every package the previous lockfile installs is installed here at the same version. */
async function sameDependencies(dir: string): Promise<boolean> {
  const lock = async (root: string) => JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as Lock;
  const [before, now] = await Promise.all([lock(dir), lock(CHECKOUT)]);
  return Object.entries(before.packages).every(
    ([path, entry]) => path === '' || entry.link === true || now.packages[path]?.version === entry.version,
  );
}

/**
 * Its node_modules: a link to each of this checkout's packages (the same versions, as checked),
 * but the workspace's own (hub-auth, @hub/…), which must be its own sources, in its own tree.
 */
async function linkDependencies(dir: string): Promise<void> {
  const modules = join(dir, 'node_modules');
  const workspace = new Map<string, string>();
  for (const folder of await readdir(join(dir, 'packages'))) {
    const manifest = JSON.parse(await readFile(join(dir, 'packages', folder, 'package.json'), 'utf8')) as {name: string};
    workspace.set(manifest.name, folder);
  }
  const checkoutModules = join(CHECKOUT, 'node_modules');
  const names = (await readdir(checkoutModules)).flatMap((name) => (name.startsWith('@') ? [] : [name]));
  for (const scope of (await readdir(checkoutModules)).filter((name) => name.startsWith('@')))
    names.push(...(await readdir(join(checkoutModules, scope))).map((name) => `${scope}/${name}`));
  for (const name of names) {
    if (workspace.has(name)) continue;
    await mkdir(dirname(join(modules, name)), {recursive: true});
    await symlink(join(checkoutModules, name), join(modules, name));
  }
  for (const [name, folder] of workspace) {
    const link = join(modules, name);
    await mkdir(dirname(link), {recursive: true});
    await symlink(relative(dirname(link), join(dir, 'packages', folder)), link);
  }
}
