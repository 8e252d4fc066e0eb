import type {Readable} from 'node:stream';
import {HubError} from '@hub/common/errors';
import type {Engine} from './engine.js';
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

/** What the person can do about a refused push or pull. */
export function explainTransferFailure(
  error: TransferError,
  registry: string,
  account: string,
  what: 'push' | 'pull',
  reference: string,
): HubError {
  const message = error.message;
  const said = asSentence(message);
  if (/denied|forbidden|insufficient_scope/i.test(message)) {
    return new HubError(`The registry refused to let you ${what} ${reference}: ${said}`, {
      code: 'denied',
      suggestions: [
        `As ${account} you may push to ${registry}/${account}/… and to the namespaces of your groups (${registry}/<group>/…); ask an administrator for access to others.`,
      ],
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
 * The engine's words ending one of hub's sentences: a period only where they have none of their
 * own. The engine's messages can end in a space ("manifest unknown ") or in punctuation, and a
 * period after either reads as a stray " ." or "..". Trailing space is dropped, not kept.
 */
export function asSentence(text: string): string {
  const trimmed = text.trimEnd();
  return /[.!?:;…]$/.test(trimmed) || trimmed === '' ? trimmed : `${trimmed}.`;
}
