import {parseArgs} from 'node:util';
import {ConfigError} from '../config.js';

/**
 * The operator commands' arguments. `--subject ISS SUB` and `--to ISS SUB` take two values, which
 * node's parseArgs does not: they are taken out first, so that neither can be mistaken for a
 * positional argument elsewhere on the line.
 */
export interface OperatorArguments {
  configFile: string;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  pairs: Record<string, [string, string]>;
}

export function operatorArguments(
  args: string[],
  options: {strings?: string[]; booleans?: string[]; pairs?: string[]},
  usage: string,
): OperatorArguments {
  const rest = [...args];
  const pairs: Record<string, [string, string]> = {};
  for (const flag of options.pairs ?? []) {
    const at = rest.indexOf(`--${flag}`);
    if (at === -1) continue;
    const [first, second] = rest.slice(at + 1, at + 3);
    if (first === undefined || second === undefined || first.startsWith('--') || second.startsWith('--'))
      throw new ConfigError(`--${flag} takes two values, the issuer and the subject: --${flag} ISS SUB (${usage})`);
    pairs[flag] = [first, second];
    rest.splice(at, 3);
  }
  const {values, positionals} = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: {
      config: {type: 'string', short: 'c'},
      ...Object.fromEntries((options.strings ?? []).map((name) => [name, {type: 'string' as const}])),
      ...Object.fromEntries((options.booleans ?? []).map((name) => [name, {type: 'boolean' as const}])),
    },
  });
  if (typeof values.config !== 'string') throw new ConfigError(`needs --config FILE, the running instance's configuration (${usage})`);
  return {configFile: values.config, values, positionals, pairs};
}
