import {Args, Flags} from '@oclif/core';
import {HubCommand} from '../base-command.js';
import {progressMode} from '../docker/progress.js';
import {push, type TransferOutcome} from '../flows/transfer.js';

export default class Push extends HubCommand {
  static override summary = 'Push an image to a hub registry through the Docker engine, with a fresh token.';
  static override description = 'A bare name goes to your namespace: `hub push myapp:1.0` means REGISTRY/USERNAME/myapp:1.0 (the local image is tagged so first). A name with a registry is used as it is.';
  static override examples = ['<%= config.bin %> push myapp:1.0', '<%= config.bin %> push registry.example.com/team/app:2', '<%= config.bin %> push myapp:1.0 --json'];

  static override args = {
    image: Args.string({description: 'image reference', required: true}),
  };

  static override flags = {
    registry: Flags.string({description: 'which logged-in registry a bare name goes to', env: 'HUB_REGISTRY'}),
    quiet: Flags.boolean({char: 'q', description: 'no progress output'}),
  };

  async run(): Promise<TransferOutcome> {
    const {args, flags} = await this.parse(Push);
    return push(this.hub, {
      image: args.image,
      registry: flags.registry,
      progress: progressMode(process.stderr, flags.quiet || this.jsonEnabled()),
      out: process.stderr,
    });
  }
}
