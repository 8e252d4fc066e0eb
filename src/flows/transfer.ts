import type {Context} from '../context.js';
import {refuseNodeHttpDebug} from '../docker/debug-output.js';
import {connectEngine, type Engine} from '../docker/engine.js';
import {formatImageReference, parseImageReference, qualifyReference} from '../docker/image-reference.js';
import type {ProgressMode} from '../docker/progress.js';
import {
  explainTransferFailure,
  isRefusal,
  pullImage,
  pushImage,
  TransferError,
  type RegistryAuth,
  type TransferResult,
} from '../docker/transfer.js';
import {registryClient} from '../registry/client.js';
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

/**
 * `hub push myapp:1.0`: tags the local image under the registry and the user's namespace, and
 * pushes it. A refused push takes back the tag it made: the name was hub's doing, and wrong.
 */
export async function push(ctx: Context, options: TransferOptions): Promise<TransferOutcome> {
  refuseNodeHttpDebug(ctx.env.NODE_DEBUG);
  const connecting = connectEngineMeanwhile(ctx);
  const credentials = await credentialsFor(ctx, options);
  const target = qualifyReference(options.image, credentials.registry.host, credentials.session.account);
  if (!target.tag)
    throw new HubError(`${options.image} names a digest, not a tag: push needs a tag.`, {exit: 2, code: 'invalid_reference'});
  const reference = `${target.remoteName}:${target.tag}`;
  const engine = await connecting;
  const untag = options.image === reference ? undefined : await tagImage(engine.docker, options.image, target.remoteName, target.tag);
  try {
    return await transfer(ctx, credentials, 'push', reference, () =>
      pushImage(engine, target.remoteName, target.tag, authFor(credentials), options.progress, options.out),
    );
  } catch (error) {
    if (error instanceof HubError && error.code === 'denied') await untag?.();
    throw error;
  }
}

/** `hub pull myapp:1.0`: the same name resolution as push, then a pull through the engine. */
export async function pull(ctx: Context, options: TransferOptions): Promise<TransferOutcome> {
  refuseNodeHttpDebug(ctx.env.NODE_DEBUG);
  const connecting = connectEngineMeanwhile(ctx);
  const credentials = await credentialsFor(ctx, options);
  const reference = formatImageReference(qualifyReference(options.image, credentials.registry.host, credentials.session.account).remote);
  const engine = await connecting;
  return transfer(ctx, credentials, 'pull', reference, () =>
    pullImage(engine, reference, authFor(credentials), options.progress, options.out),
  );
}

/** A push or pull run with the session kept checked meanwhile (keep-checked.ts), said as it starts and ends. */
async function transfer(
  ctx: Context,
  credentials: Credentials,
  what: 'push' | 'pull',
  reference: string,
  run: () => Promise<TransferResult>,
): Promise<TransferOutcome> {
  const [doing, done] = what === 'push' ? ['Pushing', 'Pushed'] : ['Pulling', 'Pulled'];
  ctx.say(`${doing} ${reference}`);
  const stopChecking = keepSessionChecked(ctx, credentials);
  try {
    const result = await run();
    ctx.say(`✓ ${done} ${reference}${result.digest ? ` (${result.digest})` : ''}`);
    return {reference, ...result};
  } catch (error) {
    if (!(error instanceof TransferError)) throw error;
    const attempt = {registry: credentials.registry.host, account: credentials.session.account, what, reference};
    throw explainTransferFailure(error, attempt, isRefusal(error) ? await namesGranted(credentials, what) : undefined);
  } finally {
    stopChecking();
  }
}

/**
 * Where the token service lets this account push or pull, for a refusal's hint. Only a hint: when
 * it cannot be had (another token service, or none answering), the refusal is told without it.
 */
async function namesGranted({registry, session}: Credentials, what: 'push' | 'pull'): Promise<string[] | undefined> {
  try {
    return (await registryClient(registry, session).namespaces())?.[what];
  } catch {
    return undefined;
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

/**
 * Tags the local image as `repo:tag`; the answer takes the tag back, when hub made it (a tag the
 * engine had already is left as it was).
 */
async function tagImage(docker: import('dockerode'), local: string, repo: string, tag: string): Promise<(() => Promise<void>) | undefined> {
  const reference = `${repo}:${tag}`;
  const existed = await docker
    .getImage(reference)
    .inspect()
    .then(
      () => true,
      (error: unknown) => {
        if ((error as {statusCode?: number}).statusCode === 404) return false;
        throw error;
      },
    );
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
  if (existed) return undefined;
  // noprune: only the name goes; the image stays under the name it had.
  // A tag that cannot be taken back costs a stray name, not the refusal's message: it is not waited on as an error.
  return () =>
    docker
      .getImage(reference)
      .remove({noprune: true})
      .then(
        () => undefined,
        () => undefined,
      );
}
