import {HubError} from '@hub/common/errors';
import {printable} from './terminal-text.js';

/**
 * A failure as a bin that another program runs (docker's credential helper, the kubelet's
 * provider) tells it on stderr: a HubError's own words and advice, anything else as "<program>
 * failed: …", kept to printable characters, since it may quote a registry's or a provider's words.
 */
export function explainFailure(program: string, error: unknown): {message: string; advice: string} {
  const message = printable(error instanceof HubError ? error.message : `${program} failed: ${(error as Error).message}`);
  const advice = error instanceof HubError ? error.suggestions.map((line) => `  ${printable(line)}\n`).join('') : '';
  return {message, advice};
}
