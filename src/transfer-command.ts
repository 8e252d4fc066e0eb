import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {HubCommand} from './base-command.js';
import type {TransferOutcome} from './flows/transfer.js';

const transferArgs = {
  image: Args.string({description: 'image reference', required: true}),
};

const transferFlags = {
  registry: Flags.string({description: 'which logged-in registry a bare name goes to', env: 'HUB_REGISTRY'}),
  quiet: Flags.boolean({char: 'q', description: 'no progress output'}),
};

/**
 * `hub push` or `hub pull`. Each is a class of its own with its own static properties: oclif
 * reads a command's own, not inherited ones.
 */
export function transferCommand(direction: 'push' | 'pull', text: {summary: string; description: string}) {
  return class extends TransferCommand {
    static override summary = text.summary;
    static override description = text.description;
    // The same three uses either way: a bare name, a name with its registry, and --json.
    static override examples = ['myapp:1.0', 'registry.example.com/team/app:2', 'myapp:1.0 --json'].map(
      (image) => `<%= config.bin %> ${direction} ${image}`,
    );
    static override args = transferArgs;
    static override flags = transferFlags;
    protected readonly direction = direction;
  };
}

/** What `hub push` and `hub pull` share. */
abstract class TransferCommand extends HubCommand {
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
