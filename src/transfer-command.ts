import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {HubCommand} from './base-command.js';
import type {TransferOutcome} from './flows/transfer.js';

export const transferArgs = {
  image: Args.string({description: 'image reference', required: true}),
};

export const transferFlags = {
  registry: Flags.string({description: 'which logged-in registry a bare name goes to', env: 'HUB_REGISTRY'}),
  quiet: Flags.boolean({char: 'q', description: 'no progress output'}),
};

/**
 * What `hub push` and `hub pull` share. Each names `transferArgs` and `transferFlags` itself:
 * oclif reads a command's own static properties, not inherited ones.
 */
export abstract class TransferCommand extends HubCommand {
  protected abstract readonly direction: 'push' | 'pull';

  async run(): Promise<TransferOutcome> {
    const {args, flags} = await this.parse({args: transferArgs, flags: transferFlags, enableJsonFlag: true});
    const [flows, {progressMode}] = await Promise.all([import('./flows/transfer.js'), import('./docker/progress.js')]);
    return flows[this.direction](this.hub, {
      image: args.image,
      registry: flags.registry,
      progress: progressMode(process.stderr, flags.quiet || this.jsonEnabled()),
      out: process.stderr,
    });
  }
}
