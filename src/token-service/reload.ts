import type {Logger} from 'pino';
import {loadConfig, type TokenServiceConfig} from './config.js';
import {loadSigningKeys, type SigningKeys} from './signing-keys.js';

export interface Reloadable {
  useSigningKeys(keys: SigningKeys): void;
}

/**
 * SIGHUP reads the configuration file again and switches to the signing key and published keys it
 * names (key rotation: publish the new key, later sign with it, later drop the old one) without a
 * restart, so requests in progress are not disturbed. Other settings are compared only: those that
 * changed are named in the log as waiting for a restart. A file that is not valid, or keys that
 * cannot be read or do not match, are logged and the running keys stay in force.
 */
export function reloadOnHangup(configFile: string, running: TokenServiceConfig, service: Reloadable, logger: Logger, env: NodeJS.ProcessEnv = process.env): void {
  let applied = running;
  // One reload at a time, in the order the signals came: the last file read wins.
  let queue = Promise.resolve();
  process.on('SIGHUP', () => {
    queue = queue.then(async () => {
      applied = await reload(configFile, applied, service, logger, env);
      logger.flush();
    });
  });
}

async function reload(configFile: string, applied: TokenServiceConfig, service: Reloadable, logger: Logger, env: NodeJS.ProcessEnv): Promise<TokenServiceConfig> {
  let config: TokenServiceConfig;
  let keys: SigningKeys;
  try {
    config = await loadConfig(configFile);
    keys = await loadSigningKeys(config.signing, env);
  } catch (error) {
    logger.error({event: 'reload', file: configFile, reason: (error as Error).message}, 'reload refused: the running configuration and keys stay in force');
    return applied;
  }
  service.useSigningKeys(keys);
  logger.info(
    {event: 'reload', file: configFile, signingKid: keys.signer.kid, publishedKids: keys.jwks.keys.map((key) => key.kid)},
    'reloaded the signing key and the published keys',
  );
  const waiting = changedSettings(applied, config);
  if (waiting.length > 0) {
    logger.warn({event: 'reload', file: configFile, settings: waiting}, 'these settings changed but take effect only after a restart');
  }
  // The settings not applied stay as they run, so that the next reload names them again.
  return {...applied, signing: config.signing};
}

/** The top-level sections, except `signing`, that differ between two configurations. */
function changedSettings(running: TokenServiceConfig, next: TokenServiceConfig): string[] {
  const sections = new Set([...Object.keys(running), ...Object.keys(next)]);
  sections.delete('signing');
  return [...sections].filter((section) => JSON.stringify(running[section as keyof TokenServiceConfig]) !== JSON.stringify(next[section as keyof TokenServiceConfig]));
}
