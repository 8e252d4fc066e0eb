import {fileURLToPath} from 'node:url';
import {Config} from '@oclif/core/config';
import {flush} from '@oclif/core/flush';
import {handle} from '@oclif/core/handle';
import {run as runOclif} from '@oclif/core/run';
import {ExitCode, HubError} from '@hub/common/errors';
import {assertWritableFolder} from './config/writable-folder.js';
import Doctor from './commands/doctor.js';
import Images from './commands/images.js';
import Login from './commands/login.js';
import Logout from './commands/logout.js';
import Open from './commands/open.js';
import Pull from './commands/pull.js';
import Push from './commands/push.js';
import Status from './commands/status.js';
import Switch from './commands/switch.js';
import Token from './commands/token.js';
import {printError, wantsJson} from './error-output.js';
import {parseFailure} from './usage-error.js';

/**
 * hub's commands for oclif's "explicit" discovery (package.json `oclif.commands`), so that the
 * whole CLI, oclif included, is one bundle (scripts/bundle.ts) that node loads in one read.
 * Every command class here is loaded at start-up, so each loads its flow, and with it the flow's
 * packages, only when it runs.
 */
export const COMMANDS = {
  doctor: Doctor,
  images: Images,
  login: Login,
  logout: Logout,
  open: Open,
  pull: Pull,
  push: Push,
  status: Status,
  switch: Switch,
  token: Token,
};

/** oclif's `command_not_found` hook (package.json `oclif.hooks`), found in this bundle. */
export {commandNotFound} from './command-not-found.js';

/**
 * oclif's `help` and `autocomplete` commands, from node_modules. They are loaded only when the
 * first word is not one of hub's commands (`hub`, `hub help push`, `hub -h`, `hub autocomplete
 * bash`, a typo), so that a hub command pays nothing for them.
 */
export const PLUGINS = ['@oclif/plugin-help', '@oclif/plugin-autocomplete'];

export async function run(args: string[] = process.argv.slice(2)): Promise<void> {
  const hubCommand = args[0] !== undefined && Object.hasOwn(COMMANDS, args[0]);
  // oclif's `execute`, but with the plugins' parse errors (`hub autocomplete fish`) in hub's own
  // usage-error format: hub's commands make theirs in base-command.ts, the plugins know nothing of it.
  const options = {root: fileURLToPath(import.meta.url), pluginAdditions: hubCommand ? undefined : {core: PLUGINS}};
  await (args[0] === 'autocomplete' ? autocompleteConfig(options) : Promise.resolve(options))
    .then(async (config) => runOclif(args, config))
    .then(async () => flush())
    .catch(async (error: unknown) => {
      if (error instanceof HubError) {
        printError(error, wantsJson(args));
        process.exitCode = error.exit;
        return;
      }
      if (!hubCommand && isParseError(error)) {
        printError(parseFailure(error, `hub ${args[0]}`), wantsJson(args));
        process.exitCode = ExitCode.usage;
        return;
      }
      return handle(error as Error);
    });
}

/**
 * oclif's autocomplete builds its cache in oclif's cache folder and, when it cannot, prints a raw
 * `ENOTDIR … mkdir` and exits 0: the folder is checked first, where oclif's own config puts it.
 */
async function autocompleteConfig(options: {root: string; pluginAdditions?: {core: string[]}}): Promise<Config> {
  const config = await Config.load(options);
  assertWritableFolder(config.cacheDir, 'its completion cache', 'XDG_CACHE_HOME (or HUB_CACHE_DIR)');
  return config;
}

/** oclif's CLIParseError (a refused argument or flag), which carries what it parsed. */
function isParseError(error: unknown): error is Error {
  return error instanceof Error && 'parse' in error;
}
