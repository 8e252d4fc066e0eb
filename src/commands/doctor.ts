import * as Args from '@oclif/core/args';
import {HubCommand} from '../base-command.js';
import type {CheckResult} from '../doctor/checkup.js';

export default class Doctor extends HubCommand {
  static override summary = 'Check every link between hub and a registry, and say how to fix the broken ones.';
  static override description =
    "In order: hub's settings, the keychain, the identity provider, the session (a fresh token is obtained), hub-auth, the registry, the Docker engine and docker's credential helper. Exits with 1 when any check fails.";
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor registry.example.com --json'];

  static override args = {
    registry: Args.string({description: 'registry host (default: HUB_REGISTRY, or the only one logged in)'}),
  };

  async run(): Promise<CheckResult[]> {
    const {args} = await this.parse(Doctor);
    const {doctor} = await import('../doctor/doctor.js');
    const checks = await doctor(this.hub, args.registry);
    if (checks.some((check) => !check.ok)) process.exitCode = 1;
    return checks;
  }
}
