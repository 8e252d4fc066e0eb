import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {HubCommand} from '../base-command.js';
import type {OpenResult} from '../flows/open.js';

export default class Open extends HubCommand {
  static override summary =
    "Open the registry's web hub in the browser: an image's page, a repository's, or the list of what you may pull.";
  static override description =
    'A bare name means your namespace, as for push and pull; with no IMAGE, the list of repositories. Without a browser ' +
    '(over SSH, or HUB_BROWSER unset with no display) the address is printed to open elsewhere.';
  static override examples = [
    '<%= config.bin %> open',
    '<%= config.bin %> open myapp:1.0',
    '<%= config.bin %> open registry.example.com/team/app@sha256:<digest>',
  ];

  static override args = {
    image: Args.string({description: 'an image (NAME[:TAG|@DIGEST]) or a repository whose page to open'}),
  };

  static override flags = {
    registry: Flags.string({description: 'which logged-in registry', env: 'HUB_REGISTRY'}),
  };

  async run(): Promise<OpenResult> {
    const {args, flags} = await this.parse(Open);
    const {openWebHub} = await import('../flows/open.js');
    const result = await openWebHub(this.hub, {registry: flags.registry, image: args.image});
    if (!this.jsonEnabled()) {
      if (result.opened) this.hub.say(`Opened ${result.url} in your browser.`);
      else {
        this.log(result.url);
        this.hub.say('No browser to open here: open the address above in one.');
      }
    }
    return result;
  }
}
