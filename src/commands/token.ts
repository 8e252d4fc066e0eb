import * as Args from '@oclif/core/args';
import {HubCommand} from '../base-command.js';

export default class Token extends HubCommand {
  static override summary = "Print a valid access token for the registry's identity provider, and nothing else.";
  static override description = 'Refreshes the token first when it expires within a minute. For scripts: the token goes to stdout.';
  static override examples = [
    '<%= config.bin %> token registry.example.com',
    'curl -H "Authorization: Bearer $(<%= config.bin %> token)" …',
  ];

  static override args = {
    registry: Args.string({description: 'registry host (default: the only one logged in)'}),
  };

  async run(): Promise<{registry: string; accessToken: string; expiresAt?: string}> {
    const {args} = await this.parse(Token);
    const {currentSession} = await import('../session/credentials.js');
    const {session} = await currentSession(this.hub, args.registry);
    if (!this.jsonEnabled()) process.stdout.write(`${session.accessToken}\n`);
    return {
      registry: session.registry,
      accessToken: session.accessToken,
      expiresAt: session.expiresAt === undefined ? undefined : new Date(session.expiresAt * 1000).toISOString(),
    };
  }
}
