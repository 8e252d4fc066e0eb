import {stripVTControlCharacters} from 'node:util';
import {ExitCode, HubError, type HubErrorCode} from '@hub/common/errors';

/** oclif's parser errors, by class, and the code hub gives each under `--json`. */
const CODES: Record<string, HubErrorCode> = {
  RequiredArgsError: 'missing_argument',
  UnexpectedArgsError: 'unexpected_argument',
  NonExistentFlagsError: 'unknown_flag',
  FlagInvalidOptionError: 'invalid_flag_value',
  ArgInvalidOptionError: 'invalid_argument',
  FailedFlagValidationError: 'invalid_flags',
  ViolatedFlagConstraintError: 'invalid_flags',
};

/** Where a person finds how to use a command: `See 'hub push --help'.` */
export function seeHelp(command: string): string {
  return `See '${command} --help'.`;
}

/** A usage error: exit 2, and the command's help named as what to read next. */
export function usageError(message: string, command: string, code: HubErrorCode = 'usage'): HubError {
  return new HubError(message, {exit: ExitCode.usage, code, suggestions: [seeHelp(command)]});
}

/**
 * What oclif's parser threw for `command` (e.g. `hub push`), as a usage error in one line:
 * oclif's message spreads over lines, ends with "See more help with --help", and, for a flag
 * value its parser refused, is a plain Error ("Parsing --port \n\tExpected an integer…").
 */
export function parseFailure(error: unknown, command: string): HubError {
  if (error instanceof HubError) return error;
  const name = error instanceof Error ? error.constructor.name : '';
  const lines = stripVTControlCharacters(error instanceof Error ? error.message : String(error))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'See more help with --help' && !/^The following errors? occurred:$/.test(line));
  const missing = name === 'RequiredArgsError' ? (error as {args?: Array<{name: string; description?: string}>}).args : undefined;
  const message = missing
    ? missing.map((arg) => `Missing argument ${arg.name.toUpperCase()}${arg.description ? ` (${arg.description})` : ''}.`).join(' ')
    : lines.join(lines[0]?.startsWith('Parsing --') ? ': ' : '; ');
  return usageError(message, command, CODES[name] ?? (lines[0]?.startsWith('Parsing --') ? 'invalid_flag_value' : 'usage'));
}
