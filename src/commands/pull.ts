import {Args, Flags} from '@oclif/core';
import {HubCommand} from '../base-command.js';
import {progressMode} from '../docker/progress.js';
import {pull, type TransferOutcome} from '../flows/transfer.js';

export default class Pull extends HubCommand {
  static override summary = 'Pull an image from a hub registry through the Docker engine, with a fresh token.';
  static override description = 'A bare name goes to your namespace: `hub pull myapp:1.0` means REGISTRY/USERNAME/myapp:1.0. A name with a registry is used as it is.';
  static override examples = ['<%= config.bin %> pull myapp:1.0', '<%= config.bin %> pull registry.example.com/team/app:2', '<%= config.bin %> pull myapp:1.0 --json'];

  static override args = {
    image: Args.string({description: 'image reference', required: true}),
  };

  static override flags = {
    registry: Flags.string({description: 'which logged-in registry a bare name goes to', env: 'HUB_REGISTRY'}),
    quiet: Flags.boolean({char: 'q', description: 'no progress output'}),
  };

  async run(): Promise<TransferOutcome> {
    const {args, flags} = await this.parse(Pull);
    return pull(this.hub, {
      image: args.image,
      registry: flags.registry,
      progress: progressMode(process.stderr, flags.quiet || this.jsonEnabled()),
      out: process.stderr,
    });
  }
}
