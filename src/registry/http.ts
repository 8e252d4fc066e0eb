import {httpRequest} from '@hub/common/net/http-request';
import {causeChain, HubError, isTransientNetworkError, rootMessage} from '@hub/common/errors';

const TIMEOUT_MS = 30_000;

/** A GET to a registry or its token service, or with `form` an OAuth2 form POST (the token-auth spec's POST /token). */
export async function send(url: string, headers: Record<string, string>, form?: URLSearchParams) {
  try {
    return await httpRequest(url, {headers, signal: AbortSignal.timeout(TIMEOUT_MS), ...(form && {form})});
  } catch (error) {
    if (!isTransientNetworkError(error)) throw error;
    throw unreachable(new URL(url), error);
  }
}

/** Why a request went nowhere, in words: a timeout says how long hub waited, not undici's abort. */
export function unreachable(url: URL, error: unknown): HubError {
  const timedOut = causeChain(error).some((e) => e.name === 'TimeoutError');
  const why = timedOut ? `it did not answer within ${TIMEOUT_MS / 1000} s` : rootMessage(error);
  return new HubError(`Cannot reach ${url.host}: ${why}.`, {code: 'unreachable', cause: error});
}
