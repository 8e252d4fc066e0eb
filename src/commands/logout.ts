import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {HubCommand} from '../base-command.js';
import type {LogoutResult} from '../flows/logout.js';
import {usageError} from '../usage-error.js';

export default class Logout extends HubCommand {
  static override summary =
    "Sign out of a registry: end the sign-in at the registry's token service, revoke the session at the provider, and forget it here.";
  // oclif's usage line knows exclusive flags, not a flag exclusive with an argument.
  static override usage = '[REGISTRY | --all] [--force] [--json]';
  static override examples = ['<%= config.bin %> logout registry.example.com', '<%= config.bin %> logout --all'];

  static override args = {
    registry: Args.string({description: 'registry host (default: the only one logged in)'}),
  };

  static override flags = {
    all: Flags.boolean({description: 'log out of every registry (no REGISTRY then)'}),
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
    return logout(this.hub, {registry: args.registry, all: flags.all, force: flags.force});
  }
}
