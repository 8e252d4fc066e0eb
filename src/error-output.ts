import type {HubError} from '@hub/common/errors';
import {printable} from './io/terminal-text.js';

/**
 * How hub shows an error it explains: under `--json` one object on stdout, where the data would
 * have been, `{"error": {"code", "message", "suggestion"}}`; otherwise `Error: …` and what to do
 * next on stderr, unwrapped, so that paths and commands in it can be copied whole, and without the
 * control characters of any remote text it quotes (JSON escapes them).
 */
export function printError(error: HubError, json: boolean): void {
  if (json) {
    const suggestion = error.suggestions.length > 0 ? error.suggestions.join(' ') : null;
    process.stdout.write(`${JSON.stringify({error: {code: error.code, message: error.message, suggestion}}, null, 2)}\n`);
    return;
  }
  const lines = [`Error: ${error.message}`, ...error.suggestions.map((suggestion) => `  → ${suggestion}`)];
  process.stderr.write(lines.map((line) => `${printable(line)}\n`).join(''));
}

/** Whether `--json` was given: before any `--`, after which words are arguments. */
export function wantsJson(argv: readonly string[]): boolean {
  const json = argv.indexOf('--json');
  const end = argv.indexOf('--');
  return json !== -1 && (end === -1 || json < end);
}
