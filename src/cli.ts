import {execute} from '@oclif/core/execute';
import Doctor from './commands/doctor.js';
import Images from './commands/images.js';
import Login from './commands/login.js';
import Logout from './commands/logout.js';
import Pull from './commands/pull.js';
import Push from './commands/push.js';
import Status from './commands/status.js';
import Token from './commands/token.js';

/**
 * hub's commands for oclif's "explicit" discovery (package.json `oclif.commands`), so that the
 * whole CLI, oclif included, is one bundle (scripts/bundle.ts) that node loads in one read.
 * Every command class here is loaded at start-up, so each loads its flow, and with it the flow's
 * packages, only when it runs.
 */
export const COMMANDS = {doctor: Doctor, images: Images, login: Login, logout: Logout, pull: Pull, push: Push, status: Status, token: Token};

export async function run(args: string[] = process.argv.slice(2)): Promise<void> {
  await execute({dir: import.meta.url, args});
}
