import {Agent, Dispatcher, getGlobalDispatcher, Headers, interceptors, request, Response} from 'undici';

export interface HttpRequestOptions {
  headers: Record<string, string>;
  /** An OAuth2 form, POSTed; without one the request is a GET. */
  form?: URLSearchParams;
  signal: AbortSignal;
}

/** No response has a body with these statuses; a Response refuses to be made with one. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const MAX_REDIRECTIONS = 20;

/**
 * An HTTP request answered as fetch answers (a WHATWG Response), but through undici's dispatcher
 * rather than fetch: fetch refuses, before connecting, the ports browsers block (the WHATWG "bad
 * port" list: 1, 10080, …), which docker and the registries it talks to use freely. A GET follows
 * redirects as fetch does, Authorization dropped on the way to another origin; a form follows
 * none: a 307 or 308 would resend it, with the access token in it, wherever it points.
 */
export async function httpRequest(url: string | URL, {headers, form, signal}: HttpRequestOptions): Promise<Response> {
  const dispatcher = undiciDispatcher();
  const answer = await request(url, {
    signal,
    ...(form
      ? {
          method: 'POST',
          body: form.toString(),
          headers: {...headers, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8'},
          dispatcher,
        }
      : {method: 'GET', headers, dispatcher: dispatcher.compose(interceptors.redirect({maxRedirections: MAX_REDIRECTIONS}))}),
  });
  const received = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    for (const one of [value ?? []].flat()) received.append(name, one);
  }
  if (NULL_BODY_STATUSES.has(answer.statusCode)) {
    await answer.body.dump();
    return new Response(null, {status: answer.statusCode, headers: received});
  }
  return new Response(answer.body, {status: answer.statusCode, headers: received});
}

let ownAgent: Agent | undefined;

/**
 * The process's dispatcher (a proxy's, where one is named), unless it is Node's own: Node's fetch
 * (undici 6 inside Node 20), once used (openid-client's refresh uses it), installs its Agent as the
 * global one when this undici loaded later, and undici 7's interceptors cannot drive it ("invalid
 * onError method"): the registry's challenge after a refresh failed, and docker went without its
 * identity token.
 */
function undiciDispatcher(): Dispatcher {
  const global = getGlobalDispatcher();
  return global instanceof Dispatcher ? global : (ownAgent ??= new Agent());
}
