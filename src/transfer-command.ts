import {Args, Flags} from '@oclif/core';
import {HubCommand} from './base-command.js';
import type {Context} from './context.js';
import {progressMode} from './docker/progress.js';
import type {TransferOptions, TransferOutcome} from './flows/transfer.js';

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

  protected abstract transfer(ctx: Context, options: TransferOptions): Promise<TransferOutcome>;

  async run(): Promise<TransferOutcome> {
    const {args, flags} = await this.parse({args: transferArgs, flags: transferFlags, enableJsonFlag: true});
    return this.transfer(this.hub, {
      image: args.image,
      registry: flags.registry,
      progress: progressMode(process.stderr, flags.quiet || this.jsonEnabled()),
      out: process.stderr,
    });
  }
}
