import {fetch} from 'undici';
import {HubError, isTransientNetworkError, rootMessage} from '@hub/common/errors';

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
    throw new HubError(`Cannot reach ${new URL(url).host}: ${rootMessage(error)}.`, {code: 'unreachable', cause: error});
  }
}
