import * as Args from '@oclif/core/args';
import {HubCommand} from '../base-command.js';
import type {RegistryStatus} from '../flows/status.js';

// bin/run.cjs answers `hub status [--json]` without loading oclif (src/fast-path.ts); this class
// serves --help and the cases the fast path hands over, and both print the same.
export default class Status extends HubCommand {
  static override summary = 'Show the registries and accounts hub is logged in to, and whether each session is usable.';
  static override description =
    'One block per account (`--json`: one object per account, `active` on the one docker and hub go as). Exits with 1 when a session cannot be used (or there is none). Reads only local state.';
  // An argument also keeps oclif from reading a second word as part of the command's name, which
  // split `hub status host:port` at the colon into "Unexpected arguments: host port".
  static override args = {
    registry: Args.string({description: 'only this registry (default: every one hub is logged in to)'}),
  };

  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status registry.example.com',
    '<%= config.bin %> status --json',
  ];

  async run(): Promise<RegistryStatus[]> {
    const {args} = await this.parse(Status);
    const {describeStatus, status, statusExitCode} = await import('../flows/status.js');
    const registries = await status(this.hub, args.registry);
    for (const line of describeStatus(registries, args.registry)) this.hub.say(line);
    process.exitCode = statusExitCode(registries);
    return registries;
  }
}
