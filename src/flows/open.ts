import {HubError} from '@hub/common/errors';
import {isHttpsOrLoopback} from '@hub/common/net/loopback';
import {HOME, imagePath, repositoryPath} from '@hub/protocol/web-paths';
import type {Context} from '../context.js';
import {readSettings} from '../config/settings.js';
import {parseImageReference} from '../docker/image-reference.js';
import {discoverHubConfiguration} from '../registry/hub-configuration.js';
import {chooseRegistry, type Registry} from '../registry/registry.js';

export interface OpenResult {
  registry: string;
  /** The web hub's page. */
  url: string;
  /** Whether a browser took it; when not, the address was printed for the person to open. */
  opened: boolean;
}

/**
 * `hub open [IMAGE]`: the web hub's page of an image (by tag or digest), of a repository, or its
 * home, in the browser. Where the web hub is comes from the registry's token service (its
 * hub-configuration document), as `hub login` finds the provider there.
 */
export async function openWebHub(ctx: Context, options: {image?: string; registry?: string}): Promise<OpenResult> {
  const wanted = options.image === undefined ? undefined : parseImageReference(options.image);
  const registry = chooseRegistry(wanted?.domain ?? options.registry, await readSettings(ctx.paths.settings), ctx.env);
  const home = await webHubOf(registry);
  const account = registry.settings?.account;
  const repository = wanted && (wanted.path.includes('/') || !account ? wanted.path : `${account}/${wanted.path}`);
  const reference = wanted?.digest ?? wanted?.tag;
  const path = repository === undefined ? HOME : reference === undefined ? repositoryPath(repository) : imagePath(repository, reference);
  const url = new URL(path, home).href;
  const opened = ctx.browserAvailable && (await ctx.openBrowser(url));
  return {registry: registry.host, url, opened};
}

/**
 * The web hub's home as the registry's token service publishes it. The token service is trusted
 * with the person's provider tokens already, so its word on where its web hub is stands; but only
 * over https (or http on this machine), since the browser signs in there.
 */
async function webHubOf(registry: Registry): Promise<URL> {
  const published = (await discoverHubConfiguration(registry)).web_hub;
  if (published === undefined) {
    const {realm} = await registry.realm();
    throw new HubError(`${registry.host} has no web hub: its token service (${new URL(realm).origin}) does not serve one.`, {
      code: 'no_web_hub',
      suggestions: [
        "Ask the registry's operator to turn on hub-auth's web hub (web.enabled); `hub images` lists what you may pull meanwhile.",
      ],
    });
  }
  const home = new URL(published);
  if (!isHttpsOrLoopback(home)) {
    throw new HubError(
      `${registry.host}'s web hub is at ${home.origin}, in plain http: hub opens it only over https (or on this machine).`,
      {
        code: 'insecure_web_hub',
        suggestions: ["Tell the registry's operator: hub-auth's web.publicUrl must be https."],
      },
    );
  }
  return home;
}
