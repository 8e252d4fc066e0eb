import type {Config} from '@oclif/core/interfaces';
import type {Hook} from '@oclif/core/hooks';
import {printError, wantsJson} from './error-output.js';
import {ExitCode, HubError} from '@hub/common/errors';
import {seeHelp, usageError} from './usage-error.js';

/**
 * oclif's `command_not_found` hook (package.json `oclif.hooks`): a word that is no hub command is
 * a usage error (exit 2) naming the nearest command, as git does. Not @oclif/plugin-not-found,
 * which suggests only by an interactive prompt, says nothing without a terminal, exits 127 and
 * knows no `--json`.
 */
export const commandNotFound: Hook<'command_not_found'> = async function ({id, argv = [], config}) {
  const error = id.startsWith('-') ? usageError(`Unknown flag ${id}.`, config.bin, 'unknown_flag') : notACommand(id.split(':'), config);
  printError(error, wantsJson([id, ...argv]));
  process.exitCode = error.exit;
};

/**
 * oclif joins the words after a command that takes no arguments to its name (`hub status
 * extra` → "status:extra"): those words are unexpected arguments of that command.
 */
function notACommand(words: string[], config: Config): HubError {
  for (let length = words.length - 1; length > 0; length--) {
    const command = config.findCommand(words.slice(0, length).join(':'));
    if (command) {
      const extra = words.slice(length);
      return usageError(
        `Unexpected argument${extra.length === 1 ? '' : 's'}: ${extra.join(' ')}`,
        `${config.bin} ${command.id.replaceAll(':', ' ')}`,
        'unexpected_argument',
      );
    }
  }
  // Only the first word: oclif joined the rest to it, splitting them at any colon (myapp:1.0).
  const typed = words[0]!;
  const visible = config.commands.filter((command) => !command.hidden).map((command) => command.id.replaceAll(':', ' '));
  const nearest = closest(typed, visible);
  return new HubError(`'${typed}' is not a ${config.bin} command.`, {
    exit: ExitCode.usage,
    code: 'unknown_command',
    suggestions: [...(nearest ? [`Did you mean '${config.bin} ${nearest}'?`] : []), seeHelp(config.bin)],
  });
}

/** The candidate nearest to `word` in edits, if it is near enough to be what was meant. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: {candidate: string; distance: number} | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (!best || distance < best.distance) best = {candidate, distance};
  }
  return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions from a to b. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
