import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {HubCommand} from '../base-command.js';
import {printable} from '../io/terminal-text.js';
import type {ImagesResult} from '../flows/images.js';

export default class Images extends HubCommand {
  static override summary = 'List the repositories you may pull from a hub registry, or the tags of one.';
  static override description =
    "What you just pushed to a namespace you may push to (yours, your groups') is listed at once; a repository new " +
    "elsewhere (a public one) can take up to 30 s to appear, as hub-auth reuses its read of the registry's catalog that long. " +
    "With a repository named, a terminal shows who last pushed each tag and when, where hub-auth hears the registry's notifications (--json: pushes).";
  static override examples = ['<%= config.bin %> images', '<%= config.bin %> images myapp', '<%= config.bin %> images team/app --json'];

  static override args = {
    repository: Args.string({description: 'a repository (a bare name means your namespace) whose tags to list'}),
  };

  static override flags = {
    registry: Flags.string({description: 'which logged-in registry', env: 'HUB_REGISTRY'}),
  };

  async run(): Promise<ImagesResult> {
    const {args, flags} = await this.parse(Images);
    const {imageLines, images, nothingToList} = await import('../flows/images.js');
    const result = await images(this.hub, {registry: flags.registry, repository: args.repository});
    if (!this.jsonEnabled()) {
      // Names and tags are the registry's words: shown without control characters.
      // Who pushed, and when, for a person at a terminal; a pipe gets the bare references it takes back.
      for (const line of imageLines(result, {withPushes: process.stdout.isTTY === true})) this.log(printable(line));
      const notice = nothingToList(result);
      if (notice) this.hub.say(notice);
    }
    return result;
  }
}
