import {randomBytes} from 'node:crypto';
import {constants} from 'node:fs';
import {link, open, unlink, writeFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {ConfigError, readSecret, type TokenServiceConfig} from './config.js';

/**
 * The bearer credential of the admin API (http/routes/admin.ts), which `hub-auth sessions`,
 * `revoke` and `accounts release` present. The operator's own (`admin.credential`), or else one
 * the instance generates at its first start and writes, readable by its user only, to
 * `admin.credentialFile`: by default hub-auth's state directory, the one that holds store.dataDir
 * (/var/lib/hub-auth), also with a PostgreSQL server, where the image makes that directory
 * hub-auth's. The commands on the same machine read it from there.
 */

/** Where the generated credential is: the configured file, or beside the embedded store's data directory. */
export function adminCredentialFile(config: Pick<TokenServiceConfig, 'admin' | 'store'>): string {
  return config.admin.credentialFile ?? join(dirname(config.store.dataDir ?? DEFAULT_STATE_DIR_CHILD), 'admin-credential');
}

/** The state directory's default child: what store.dataDir defaults to, also when the store is a server. */
const DEFAULT_STATE_DIR_CHILD = '/var/lib/hub-auth/store';

/**
 * The credential the instance answers to: the configured one, the one written before (instances
 * sharing the file agree), or a new one, created so that of two instances starting at once one
 * file wins and both read it.
 */
export async function establishAdminCredential(
  config: Pick<TokenServiceConfig, 'admin' | 'store'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{credential: string; file?: string}> {
  if (config.admin.credential) return {credential: await readSecret(config.admin.credential, 'admin.credential', env)};
  const file = adminCredentialFile(config);
  const existing = await readCredentialFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error instanceof ConfigError ? error : unusable(file, 'read', error);
  });
  if (existing !== undefined) return {credential: existing, file};
  // Written whole under another name, then linked into place: link() never replaces what is there
  // (a file, or a symbolic link someone put there), so nothing is written through a link, and a
  // reader never sees half a credential.
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temporary, `${randomBytes(32).toString('base64url')}\n`, {mode: 0o600, flag: 'wx'});
    await link(temporary, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  } catch (error) {
    throw unusable(file, 'write', error as NodeJS.ErrnoException);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return {credential: await readCredentialFile(file), file};
}

function unusable(file: string, doing: string, error: NodeJS.ErrnoException): ConfigError {
  return new ConfigError(
    `admin.credentialFile: cannot ${doing} ${file}: ${error.code ?? error.message}. Set admin.credential, or admin.credentialFile to a path hub-auth can write`,
  );
}

/** The credential the commands present: the configured one, or the file the instance wrote. */
export async function adminCredentialOf(config: Pick<TokenServiceConfig, 'admin' | 'store'>, env = process.env): Promise<string> {
  if (config.admin.credential) return readSecret(config.admin.credential, 'admin.credential', env);
  const file = adminCredentialFile(config);
  try {
    return await readCredentialFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `no admin credential at ${file}: the instance writes it when it starts (hub-auth serve with this configuration), or set admin.credential`
        : code === 'EACCES'
          ? `cannot read ${file}: permission denied. Run this as the user hub-auth runs as`
          : (error as Error).message,
    );
  }
}

/** Read without following a link, and only when no one else may read it. */
async function readCredentialFile(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new ConfigError(
        `${file} is a symbolic link: hub-auth reads no credential through one. Remove it; the instance writes a new one at start`,
      );
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ConfigError(`${file} is not a file: remove it, or set admin.credentialFile to another path`);
    if ((stat.mode & 0o077) !== 0)
      throw new ConfigError(
        `${file} may be read by others (mode ${(stat.mode & 0o777).toString(8)}): chmod 600 it, or remove it and restart hub-auth for a new one`,
      );
    const credential = (await handle.readFile('utf8')).trim();
    if (credential === '') throw new ConfigError(`${file} is empty: remove it and restart hub-auth, which writes a new one`);
    return credential;
  } finally {
    await handle.close();
  }
}
