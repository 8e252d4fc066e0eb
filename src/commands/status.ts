import {HubCommand} from '../base-command.js';
import {status, type RegistryStatus} from '../flows/status.js';

export default class Status extends HubCommand {
  static override summary = 'Show the registries hub is logged in to, and whether each session is usable.';
  static override description = 'Exits with 1 when a session cannot be used (or there is none). Reads only local state.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run(): Promise<RegistryStatus[]> {
    await this.parse(Status);
    const registries = await status(this.hub);
    if (registries.length === 0) this.hub.say('Not logged in to any registry. Run `hub login REGISTRY`.');
    for (const r of registries) {
      this.hub.say(`${r.usable ? '✓' : '✗'} ${r.registry}`);
      this.hub.say(`    account:  ${r.account ?? '(unknown)'}`);
      this.hub.say(`    issuer:   ${r.issuer}`);
      this.hub.say(`    token:    ${r.problem ?? describeExpiry(r)}`);
      this.hub.say(`    storage:  ${r.storageDescription}`);
    }
    if (registries.length === 0 || registries.some((r) => !r.usable)) process.exitCode = 1;
    return registries;
  }
}

function describeExpiry(r: RegistryStatus): string {
  if (!r.expiresAt) return 'valid (no expiry given)';
  const verb = Date.parse(r.expiresAt) > Date.now() ? 'expires' : 'expired';
  return r.state === 'refreshable' ? `${verb} ${r.expiresAt}, refreshed when next used` : `${verb} ${r.expiresAt}`;
}
