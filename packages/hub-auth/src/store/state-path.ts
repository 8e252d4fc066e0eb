import {existsSync, lstatSync, readlinkSync, realpathSync} from 'node:fs';

/**
 * A state path (store.dataDir) that is a symbolic link is refused unless the operator allowed it
 * (store.followSymlink): whoever can change the link would choose where hub-auth writes its state,
 * and a link to nothing would have hub-auth create its state wherever it points. An allowed link is
 * resolved once, here, and a link to nothing is refused even then.
 */
export function statePath(path: string, setting: string, followSymlink: boolean): {path: string; followedTo?: string} {
  const target = symlinkTarget(path);
  if (target === undefined) return {path};
  if (!followSymlink) {
    throw new Error(
      `${setting}: ${path} is a symbolic link (to ${target}): hub-auth does not write its state through one, since whoever can change the link chooses where it writes. Point ${setting} at the directory itself, or set store.followSymlink: true if the link is yours.`,
    );
  }
  if (!existsSync(path)) {
    throw new Error(
      `${setting}: ${path} is a symbolic link to ${target}, which does not exist (a volume not mounted?): hub-auth creates no state at the far end of a link. Create it there, or point ${setting} at a path of its own.`,
    );
  }
  const real = realpathSync(path);
  return {path: real, followedTo: real};
}

/** Where the path links to, or undefined when it is no symbolic link (or does not exist). */
function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
