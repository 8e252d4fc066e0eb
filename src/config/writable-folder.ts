import {accessSync, constants, statSync} from 'node:fs';
import {dirname} from 'node:path';
import {HubError} from '@hub/common/errors';

/**
 * Fails at once when `folder` cannot be made or written by this user, before any work that would
 * be lost: a sign-in in the browser, a completion cache built. `settings` names what the person can
 * set to move it. Nothing is created here: a check that made the folder would leave it behind.
 */
export function assertWritableFolder(folder: string, purpose: string, settings: string): void {
  const reason = whyUnwritable(folder);
  if (!reason) return;
  throw new HubError(`hub cannot keep ${purpose} in ${folder}: ${reason}. Set ${settings} to a folder you can write.`, {
    code: 'folder_unwritable',
  });
}

/** Why `folder` (or the nearest part of its path that exists, where it would be made) cannot be written. */
function whyUnwritable(folder: string): string | undefined {
  for (let dir = folder; ; dir = dirname(dir)) {
    let isFolder: boolean;
    try {
      isFolder = statSync(dir).isDirectory();
    } catch {
      // Missing, or under a file or a folder this user may not enter: the folder would be made further up.
      if (dirname(dir) === dir) return `${dir} cannot be read`;
      continue;
    }
    if (!isFolder) return `${dir} is a file, not a folder`;
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
      return undefined;
    } catch {
      return `${dir} is not writable by you`;
    }
  }
}
