import type {Context} from '../context.js';
import {refuseNodeHttpDebug} from '../docker/debug-output.js';
import {connectEngine, type Engine} from '../docker/engine.js';
import {formatImageReference, parseImageReference, qualifyReference} from '../docker/image-reference.js';
import type {ProgressMode} from '../docker/progress.js';
import {explainTransferFailure, pullImage, pushImage, TransferError, type RegistryAuth} from '../docker/transfer.js';
import {HubError} from '@hub/common/errors';
import {credentialsNow, type Credentials} from '../session/credentials.js';
import {keepSessionChecked} from '../session/keep-checked.js';

export interface TransferOptions {
  image: string;
  registry?: string;
  progress: ProgressMode;
  /** Where progress goes: stderr, so that stdout stays data. */
  out: NodeJS.WritableStream;
}

export interface TransferOutcome {
  reference: string;
  digest?: string;
  size?: number;
}

/** `hub push myapp:1.0`: tags the local image under the registry and the user's namespace, and pushes it. */
export async function push(ctx: Context, options: TransferOptions): Promise<TransferOutcome> {
  refuseNodeHttpDebug(ctx.env.NODE_DEBUG);
  const connecting = connectEngineMeanwhile(ctx);
  const credentials = await credentialsFor(ctx, options);
  const target = qualifyReference(options.image, credentials.registry.host, credentials.session.account);
  if (!target.tag)
    throw new HubError(`${options.image} names a digest, not a tag: push needs a tag.`, {exit: 2, code: 'invalid_reference'});
  const reference = `${target.remoteName}:${target.tag}`;
  const engine = await connecting;
  if (options.image !== reference) await tagImage(engine.docker, options.image, target.remoteName, target.tag);
  ctx.say(`Pushing ${reference}`);
  const stopChecking = keepSessionChecked(ctx, credentials);
  try {
    const result = await pushImage(engine, target.remoteName, target.tag, authFor(credentials), options.progress, options.out);
    ctx.say(`✓ Pushed ${reference}${result.digest ? ` (${result.digest})` : ''}`);
    return {reference, ...result};
  } catch (error) {
    throw asHubError(error, credentials, 'push', reference);
  } finally {
    stopChecking();
  }
}

/** `hub pull myapp:1.0`: the same name resolution as push, then a pull through the engine. */
export async function pull(ctx: Context, options: TransferOptions): Promise<TransferOutcome> {
  refuseNodeHttpDebug(ctx.env.NODE_DEBUG);
  const connecting = connectEngineMeanwhile(ctx);
  const credentials = await credentialsFor(ctx, options);
  const reference = formatImageReference(qualifyReference(options.image, credentials.registry.host, credentials.session.account).remote);
  const engine = await connecting;
  ctx.say(`Pulling ${reference}`);
  const stopChecking = keepSessionChecked(ctx, credentials);
  try {
    const result = await pullImage(engine, reference, authFor(credentials), options.progress, options.out);
    ctx.say(`✓ Pulled ${reference}${result.digest ? ` (${result.digest})` : ''}`);
    return {reference, ...result};
  } catch (error) {
    throw asHubError(error, credentials, 'pull', reference);
  } finally {
    stopChecking();
  }
}

/**
 * Connects to the engine while the session is read from the keychain. A problem with the session
 * is still reported first: the connection's failure is held until it is awaited.
 */
function connectEngineMeanwhile(ctx: Context): Promise<Engine> {
  const connecting = connectEngine(ctx.env);
  connecting.catch(() => undefined);
  return connecting;
}

/** A reference that names its registry uses that registry's session; a bare one, the chosen registry's. */
function credentialsFor(ctx: Context, options: TransferOptions) {
  return credentialsNow(ctx, parseImageReference(options.image).domain ?? options.registry);
}

/** The identity token when there is one, for this registry only (serveraddress): the access token would expire mid-way. */
function authFor({registry, session, identityToken}: Credentials): RegistryAuth {
  if (identityToken) return {identitytoken: identityToken, serveraddress: registry.host};
  return {username: session.account, password: session.accessToken, serveraddress: registry.host};
}

async function tagImage(docker: import('dockerode'), local: string, repo: string, tag: string): Promise<void> {
  try {
    await docker.getImage(local).tag({repo, tag});
  } catch (error) {
    if ((error as {statusCode?: number}).statusCode === 404) {
      throw new HubError(`There is no image ${local} on this Docker engine.`, {
        code: 'no_such_image',
        suggestions: ['`docker images` lists the local images; build or pull it first.'],
      });
    }
    throw error;
  }
}

function asHubError(error: unknown, {registry, session}: Credentials, what: 'push' | 'pull', reference: string): unknown {
  return error instanceof TransferError ? explainTransferFailure(error, registry.host, session.account, what, reference) : error;
}
