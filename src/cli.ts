import {fileURLToPath} from 'node:url';
import {flush} from '@oclif/core/flush';
import {handle} from '@oclif/core/handle';
import {run as runOclif} from '@oclif/core/run';
import {ExitCode} from '@hub/common/errors';
import Doctor from './commands/doctor.js';
import Images from './commands/images.js';
import Login from './commands/login.js';
import Logout from './commands/logout.js';
import Pull from './commands/pull.js';
import Push from './commands/push.js';
import Status from './commands/status.js';
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
  pull: Pull,
  push: Push,
  status: Status,
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
  await runOclif(args, {root: fileURLToPath(import.meta.url), pluginAdditions: hubCommand ? undefined : {core: PLUGINS}})
    .then(async () => flush())
    .catch(async (error: unknown) => {
      if (!hubCommand && isParseError(error)) {
        printError(parseFailure(error, `hub ${args[0]}`), wantsJson(args));
        process.exitCode = ExitCode.usage;
        return;
      }
      return handle(error as Error);
    });
}

/** oclif's CLIParseError (a refused argument or flag), which carries what it parsed. */
function isParseError(error: unknown): error is Error {
  return error instanceof Error && 'parse' in error;
}
