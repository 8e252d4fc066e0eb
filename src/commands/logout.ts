import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {HubCommand} from '../base-command.js';
import type {LogoutResult} from '../flows/logout.js';
import {usageError} from '../usage-error.js';

export default class Logout extends HubCommand {
  static override summary =
    "Sign out of a registry: end the sign-in at the registry's token service, revoke the session at the provider, and forget it here.";
  static override description =
    'Logs out of the active account of the registry, or of the one --account names; when others stay logged in, the ' +
    'one that logged in last of them becomes active (said), and docker keeps its credential helper entry until the ' +
    'last account goes.';
  // oclif's usage line knows exclusive flags, not a flag exclusive with an argument.
  static override usage = '[REGISTRY [--account NAME] | --all] [--force] [--json]';
  static override examples = [
    '<%= config.bin %> logout registry.example.com',
    '<%= config.bin %> logout registry.example.com --account bob',
    '<%= config.bin %> logout --all',
  ];

  static override args = {
    registry: Args.string({description: 'registry host (default: the only one logged in)'}),
  };

  static override flags = {
    all: Flags.boolean({description: 'log out of every account of every registry (no REGISTRY then)', exclusive: ['account']}),
    account: Flags.string({description: "the account to log out of (default: the registry's active one)"}),
    force: Flags.boolean({
      description: "forget the session here even when the registry's token service cannot end it (copies then work until they lapse)",
    }),
  };

  async run(): Promise<LogoutResult[]> {
    const {args, flags} = await this.parse(Logout);
    if (flags.all && args.registry !== undefined) {
      throw usageError(
        `Give a REGISTRY or --all, not both (got ${args.registry} and --all).`,
        `${this.config.bin} ${this.id}`,
        'invalid_flags',
      );
    }
    const {logout} = await import('../flows/logout.js');
    return logout(this.hub, {registry: args.registry, all: flags.all, force: flags.force, account: flags.account});
  }
}
