import * as Args from '@oclif/core/args';
import {HubCommand} from '../base-command.js';
import type {SwitchResult} from '../flows/switch.js';

export default class Switch extends HubCommand {
  static override summary = 'Make another account logged in to a registry the active one: docker, hub push and hub pull then go as it.';
  static override description =
    'With one other account logged in to the registry, switches to it; with several, to the one named, or asks on a ' +
    'terminal (without one, name it). The registry is the one named, else HUB_REGISTRY, else the only one with several ' +
    'accounts; a single word that is not a registry hub knows is the account. `hub login` as another person adds an ' +
    'account and makes it active; `hub status` lists them all.';

  static override args = {
    registry: Args.string({description: 'registry host (default: the only one with several accounts)'}),
    account: Args.string({description: 'the account to make active (default: the other one, or asked)'}),
  };

  static override usage = '[REGISTRY] [ACCOUNT] [--json]';
  static override examples = [
    '<%= config.bin %> switch',
    '<%= config.bin %> switch alice',
    '<%= config.bin %> switch registry.example.com alice',
  ];

  async run(): Promise<SwitchResult> {
    const {args} = await this.parse(Switch);
    const {switchAccount} = await import('../flows/switch.js');
    return switchAccount(this.hub, {registry: args.registry, account: args.account});
  }
}
