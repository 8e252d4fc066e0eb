import type {Readable} from 'node:stream';
import {HubError} from '@hub/common/errors';
import type {Engine} from './engine.js';
import {parseImageReference} from './image-reference.js';
import {createProgressRenderer, type ProgressEvent, type ProgressMode} from './progress.js';

/**
 * Pushes and pulls through the engine's API with a fresh token, following the progress stream.
 * The engine reports a failed push as HTTP 200 with an `error` line in the stream, so every line
 * is inspected: the stream ending is not success.
 */

/** The engine's authconfig (X-Registry-Auth): the access token as password, or docker's identity token. */
export type RegistryAuth = {serveraddress: string} & ({username: string; password: string} | {identitytoken: string});

export interface TransferResult {
  digest?: string;
  size?: number;
}

export interface TransferFailure {
  message: string;
}

export async function pushImage(
  engine: Engine,
  name: string,
  tag: string,
  auth: RegistryAuth,
  mode: ProgressMode,
  out: NodeJS.WritableStream,
): Promise<TransferResult> {
  const stream = (await engine.docker.getImage(`${name}:${tag}`).push({tag, authconfig: auth})) as Readable;
  return follow(engine, stream, mode, out);
}

export async function pullImage(
  engine: Engine,
  reference: string,
  auth: RegistryAuth,
  mode: ProgressMode,
  out: NodeJS.WritableStream,
): Promise<TransferResult> {
  let stream: Readable;
  try {
    stream = (await engine.docker.pull(reference, {authconfig: auth})) as Readable;
  } catch (error) {
    throw new TransferError(engineMessage(error));
  }
  return follow(engine, stream, mode, out);
}

export class TransferError extends Error {
  override name = 'TransferError';
}

async function follow(engine: Engine, stream: Readable, mode: ProgressMode, out: NodeJS.WritableStream): Promise<TransferResult> {
  const render = createProgressRenderer(mode, out);
  const result: TransferResult = {};
  let failure: string | undefined;
  return new Promise((resolve, reject) => {
    engine.docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        if (error || failure) reject(new TransferError(failure ?? engineMessage(error)));
        else resolve(result);
      },
      (event: ProgressEvent) => {
        if (event.error || event.errorDetail) {
          failure ??= event.errorDetail?.message ?? event.error;
          return;
        }
        if (event.aux?.Digest) {
          result.digest = event.aux.Digest;
          result.size = event.aux.Size;
        }
        const pulled = /^Digest: (sha256:[0-9a-f]{64})$/.exec(event.status ?? '');
        if (pulled) result.digest = pulled[1];
        render(event);
      },
    );
  });
}

/** dockerode puts the engine's JSON error into the message; the engine's own words are clearer. */
function engineMessage(error: unknown): string {
  const json = (error as {json?: {message?: string}})?.json;
  if (json?.message) return json.message;
  return error instanceof Error ? error.message.replace(/^\(HTTP code \d+\)\s*[\w ]+-\s*/, '') : String(error);
}

/** A push or pull, as its failure is explained. */
export interface TransferAttempt {
  registry: string;
  account: string;
  what: 'push' | 'pull';
  /** The full reference, registry first. */
  reference: string;
}

/** Whether the registry refused the push or pull (the token lacked the scope): then the hint says where this account may go. */
export function isRefusal(error: TransferError): boolean {
  return /denied|forbidden|insufficient_scope/i.test(error.message);
}

/**
 * What the person can do about a failed push or pull. A refusal says where the account may push
 * or pull (`granted`: the token service's names, NamespaceListing), or to ask when it does not say.
 */
export function explainTransferFailure(error: TransferError, attempt: TransferAttempt, granted?: readonly string[]): HubError {
  const {registry, what, reference} = attempt;
  // docker's advice to `docker login` is wrong here: hub signed in, and the account lacks the access.
  const message = error.message.replace(
    /repository does not exist or may require 'docker login'/,
    'repository does not exist or this account may not pull it',
  );
  const said = asSentence(message);
  if (isRefusal(error)) {
    return new HubError(`The registry refused to let you ${what} ${reference}: ${said}`, {
      code: 'denied',
      suggestions: whereAllowed(attempt, granted),
    });
  }
  // The realm or the registry unreachable, overloaded or restarting: the credentials are fine.
  if (
    /\bEOF\b|connection refused|connection reset|broken pipe|i\/o timeout|timeout exceeded|no such host|\b50[0234]\b|service unavailable|UNAVAILABLE|TOOMANYREQUESTS|try again/i.test(
      message,
    )
  ) {
    return new HubError(`The ${what} of ${reference} was interrupted: ${said}`, {
      code: `${what}_interrupted`,
      suggestions: [
        `Nothing needs a new login: retry the same command (\`hub ${what} ${reference}\`); what already reached ${what === 'push' ? 'the registry' : 'this engine'} is not sent again.`,
      ],
    });
  }
  if (/unauthorized|authentication required|401/i.test(message)) {
    return new HubError(`The registry did not accept your credentials for ${reference}: ${said}`, {
      code: 'unauthorized',
      suggestions: [`Run \`hub login ${registry}\` and try again.`],
    });
  }
  return new HubError(`The ${what} of ${reference} failed: ${said}`, {code: `${what}_failed`});
}

/**
 * Where this account may push or pull, with the policy's layout as the token service gave it:
 * `groups/dev/*` is shown as REGISTRY/groups/dev/…, and a name refused under a namespace's last
 * part (`dev/teamapp`) is offered where that namespace is (REGISTRY/groups/dev/teamapp).
 */
function whereAllowed({registry, account, what, reference}: TransferAttempt, granted: readonly string[] | undefined): string[] {
  if (granted === undefined) return [`Ask the registry's administrator where ${account} may ${what}.`];
  const verb = what === 'push' ? 'push to' : 'pull';
  if (granted.length === 0) return [`As ${account} you may ${verb} nothing on ${registry}; ask the registry's administrator for access.`];
  const shown = granted.map((name) => `${registry}/${name.endsWith('/*') ? `${name.slice(0, -1)}…` : name.replaceAll('*', '…')}`);
  const hints = [`As ${account} you may ${verb} ${listed(shown)}; ask the registry's administrator for access to others.`];
  const [first, ...rest] = parseImageReference(reference).path.split('/');
  for (const name of granted) {
    const namespace = name.endsWith('/*') ? name.slice(0, -2) : undefined;
    if (rest.length > 0 && namespace?.includes('/') && namespace.endsWith(`/${first}`)) {
      hints.unshift(`Did you mean ${registry}/${namespace}/${rest.join('/')}? That is where ${first}'s namespace is on ${registry}.`);
    }
  }
  return hints;
}

/** "a", "a and b", "a, b and c". */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}`;
}

/**
 * The engine's words ending one of hub's sentences: a period only where they have none of their
 * own. The engine's messages can end in a space ("manifest unknown ") or in punctuation, and a
 * period after either reads as a stray " ." or "..". Trailing space is dropped, not kept.
 */
export function asSentence(text: string): string {
  const trimmed = text.trimEnd();
  return /[.!?:;…]$/.test(trimmed) || trimmed === '' ? trimmed : `${trimmed}.`;
}
