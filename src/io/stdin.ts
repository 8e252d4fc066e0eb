import {ExitCode, HubError} from '../errors.js';

/**
 * A secret piped on stdin (first line, trimmed). Never a prompt: a script would hang on one, so a
 * terminal on stdin is an error that says what to do instead.
 */
export async function secretFromStdin(what: string, howTo: string, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY) {
    throw new HubError(`hub reads ${what} from stdin, and stdin is a terminal.`, {exit: ExitCode.usage, code: 'stdin_is_terminal', suggestions: [howTo[0]!.toUpperCase() + howTo.slice(1) + '.']});
  }
  const value = (await readStdin(stdin)).split(/\r?\n/)[0]?.trim();
  if (!value) throw new HubError(`Nothing on stdin, where hub expected ${what}.`, {exit: ExitCode.usage, code: 'empty_stdin', suggestions: [howTo[0]!.toUpperCase() + howTo.slice(1) + '.']});
  return value;
}

/** Whatever is piped in, up to 64 KB; nothing when stdin is a terminal. */
export async function readStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY) return '';
  let text = '';
  for await (const chunk of stdin) {
    text += chunk;
    if (text.length > 64 * 1024) break;
  }
  return text;
}
