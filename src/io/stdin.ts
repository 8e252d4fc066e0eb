import {fstatSync, readSync} from 'node:fs';
import {ExitCode, HubError} from '@hub/common/errors';

const STDIN = 0;
const MAX_INPUT_BYTES = 64 * 1024;

/**
 * A secret piped on stdin (first line, trimmed). Never a prompt: a script would hang on one, so a
 * terminal on stdin is an error that says what to do instead.
 */
export async function secretFromStdin(what: string, howTo: string): Promise<string> {
  const suggestions = [howTo[0]!.toUpperCase() + howTo.slice(1) + '.'];
  if (process.stdin.isTTY)
    throw new HubError(`hub reads ${what} from stdin, and stdin is a terminal.`, {
      exit: ExitCode.usage,
      code: 'stdin_is_terminal',
      suggestions,
    });
  const value = (await readStdin()).split(/\r?\n/)[0]?.trim();
  if (!value) throw new HubError(`Nothing on stdin, where hub expected ${what}.`, {exit: ExitCode.usage, code: 'empty_stdin', suggestions});
  return value;
}

/**
 * Whatever is piped in, up to 64 KB; nothing when stdin is a terminal, which would block the read.
 * Read straight from the file descriptor, and a terminal told by its being a character device:
 * process.stdin and node:tty each cost ~5 ms to load, which docker-credential-hub would pay on
 * every docker operation. (The other usual character device, /dev/null, has nothing to read
 * anyway.) A non-blocking pipe (EAGAIN) is read through the stream instead.
 */
export async function readStdin(): Promise<string> {
  if (fstatSync(STDIN).isCharacterDevice()) return '';
  const buffer = Buffer.alloc(MAX_INPUT_BYTES);
  let length = 0;
  try {
    let read: number;
    do {
      read = readSync(STDIN, buffer, length, buffer.length - length, null);
      length += read;
    } while (read > 0 && length < buffer.length);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Windows reports the end of a pipe as an error.
    if (code === 'EAGAIN') return buffer.toString('utf8', 0, length) + (await readStream(process.stdin, MAX_INPUT_BYTES - length));
    if (code !== 'EOF') throw error;
  }
  return buffer.toString('utf8', 0, length);
}

async function readStream(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk));
    length += chunks.at(-1)!.length;
    if (length >= maxBytes) break;
  }
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(length, maxBytes));
}
