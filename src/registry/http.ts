import {fetch} from 'undici';
import {causeChain, HubError, isTransientNetworkError, rootMessage} from '@hub/common/errors';

const TIMEOUT_MS = 30_000;

/** A GET to a registry or its token service, or with `form` an OAuth2 form POST (the token-auth spec's POST /token). */
export async function send(url: string, headers: Record<string, string>, form?: URLSearchParams) {
  try {
    // undici drops Authorization on a redirect to another origin, but a 307 or 308 resends the
    // body, with the access token in it, wherever it points (plain http too): a form goes nowhere else.
    const request = form ? {method: 'POST', body: form, redirect: 'manual' as const} : {};
    return await fetch(url, {headers, signal: AbortSignal.timeout(TIMEOUT_MS), ...request});
  } catch (error) {
    if (!isTransientNetworkError(error)) throw error;
    throw unreachable(new URL(url), error);
  }
}

/**
 * Why a request went nowhere, in words. fetch refuses, before connecting, the ports browsers block
 * (the WHATWG "bad port" list: 1, 10080, …) though docker uses them: that is said plainly, not as
 * "Cannot reach". A timeout says how long hub waited, not undici's abort.
 */
export function unreachable(url: URL, error: unknown): HubError {
  const root = rootMessage(error);
  if (root === 'bad port') {
    return new HubError(
      `hub cannot connect to ${url.host}: port ${url.port} is one that browsers block, and Node's fetch, which hub uses, refuses it (docker does not).`,
      {code: 'unreachable', cause: error, suggestions: ['Serve the registry (and its token service) on another port, e.g. 5000 or 443.']},
    );
  }
  const timedOut = causeChain(error).some((e) => e.name === 'TimeoutError');
  const why = timedOut ? `it did not answer within ${TIMEOUT_MS / 1000} s` : root;
  return new HubError(`Cannot reach ${url.host}: ${why}.`, {code: 'unreachable', cause: error});
}
