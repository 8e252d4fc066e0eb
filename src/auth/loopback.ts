import {randomBytes} from 'node:crypto';
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo, Socket} from 'node:net';
import {ExitCode, HubError} from '@hub/common/errors';
import {connectionOwner, isAnotherUser, type ConnectionOwner, type LoopbackConnection} from './local-peer.js';
import {passedOn, QUOTED_LENGTH} from '@hub/common/quote';

/**
 * The redirect target of a native app's authorization request (RFC 8252 §7.3): a one-shot HTTP
 * server on 127.0.0.1 that waits for the provider to send the browser back with a code. It also
 * serves the link the browser is opened on: a one-time path that redirects to the provider, so
 * that the authorization request (state, nonce, PKCE challenge) never is a command-line argument
 * that any local user can read in /proc. The link itself is such an argument, so the server
 * answers only its own user where the kernel tells who connected, and nobody whose connection
 * the kernel's tables should list but do not (local-peer.ts).
 */

const CALLBACK_PATH = '/callback';

export interface LoopbackOptions {
  /** 0 lets the OS choose; some providers only accept a registered port. */
  port?: number;
  expectedState: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** What to check when the browser went to the provider and never came back (the login's settings). */
  checksWhenNotSentBack?: string[];
  /** The login's own words for a refusal it knows more about than the provider says (invalid_scope: which scopes). */
  explainRefusal?: (error: string, description: string | undefined) => HubError | undefined;
  /**
   * Told, once per uid (and once for all the connections the kernel did not list), that a
   * connection hub refused tried the link or the callback.
   */
  onRefused?: (refused: RefusedConnection) => void;
  /** Who opened a connection (tests replace it). */
  connectionOwner?: (connection: LoopbackConnection) => Promise<ConnectionOwner>;
}

/** Another user's connection, or one the kernel does not list as established (closed, reset, hidden). */
export type RefusedConnection = {kind: 'user'; uid: number} | {kind: 'unlisted'};

export interface PageOutcome {
  ok: boolean;
  message: string;
}

export interface LoopbackServer {
  redirectUri: string;
  /**
   * The link to open instead of the authorization URL: it redirects there once. A second visit
   * means someone else has it too, and ends the login.
   */
  startUrl(authorizationUrl: URL): string;
  /** The callback URL that carried a code and the expected state. */
  callback: Promise<URL>;
  /** Answers the browser waiting on the callback, then stops listening. */
  finish(outcome: PageOutcome): Promise<void>;
}

export async function startLoopbackServer(options: LoopbackOptions): Promise<LoopbackServer> {
  let accept!: (url: URL) => void;
  let refuse!: (error: HubError) => void;
  const callback = new Promise<URL>((resolve, reject) => {
    accept = resolve;
    refuse = reject;
  });
  callback.catch(() => {}); // the caller may be stopped before it awaits
  let pending: ServerResponse | undefined;
  let settled = false;
  let expectedHost = '';
  const startPath = `/${randomBytes(24).toString('base64url')}`;
  let authorizationUrl: URL | undefined;
  let started = false;

  const ownerOf = options.connectionOwner ?? connectionOwner;
  const told = new Set<string>();
  // Taken when the connection is accepted: once the client has closed, node no longer knows its address.
  const addresses = new WeakMap<Socket, LoopbackConnection>();

  const server = createServer((req, res) => void answer(req, res));
  server.on('connection', (socket: Socket) => addresses.set(socket, addressesOf(socket)));

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusal(await ownerOf(addresses.get(req.socket) ?? addressesOf(req.socket)));
    if (refused) {
      // Someone who read the link in /proc: refused before the link is used up or the provider's URL is shown.
      page(res, 403, {ok: false, message: 'This sign-in belongs to another user of this machine.'});
      const key = refused.kind === 'user' ? String(refused.uid) : refused.kind;
      if (!told.has(key)) {
        told.add(key);
        options.onRefused?.(refused);
      }
      return;
    }
    const url = requestUrl(req, expectedHost);
    if (settled) return page(res, 400, {ok: false, message: 'This sign-in has already been handled. You can close this tab.'});
    if (req.headers.host !== expectedHost) {
      // DNS rebinding: a web page that resolves its own name to 127.0.0.1 cannot speak for us.
      return page(res, 400, {ok: false, message: 'Wrong host for this sign-in.'});
    }
    if (req.method === 'GET' && authorizationUrl && url?.pathname === startPath) {
      if (!started) {
        started = true;
        res.writeHead(302, {
          location: authorizationUrl.href,
          'cache-control': 'no-store',
          'referrer-policy': 'no-referrer',
          connection: 'close',
        });
        res.end();
        return;
      }
      // Only one browser can have been meant; the sign-in might finish in the other one.
      const reused = new HubError(
        'The sign-in link was opened a second time: someone else on this machine may have it. hub stopped this login so that it cannot end up signed in as them.',
        {
          code: 'sign_in_link_reused',
          suggestions: ['Run the login again and open the link only once; if you did not open it twice, tell your administrator.'],
        },
      );
      page(res, 400, {ok: false, message: reused.message});
      fail(reused);
      return;
    }
    if (req.method !== 'GET' || url?.pathname !== CALLBACK_PATH) {
      return page(res, 404, {ok: false, message: 'Not found.'});
    }
    if (!hasState(url.searchParams, options.expectedState)) {
      // Anyone who finds the port can send this; it must not end the login the person is finishing.
      return page(res, 400, {ok: false, message: 'This sign-in response does not belong to the login hub is waiting for; it was ignored.'});
    }
    settled = true;
    const failure = checkCallback(url.searchParams, options.explainRefusal);
    if (failure) {
      page(res, 400, {ok: false, message: failure.message});
      refuse(failure);
      void stop();
      return;
    }
    pending = res;
    accept(url);
  }

  const timer = setTimeout(() => fail(timedOut()), options.timeoutMs);

  /**
   * A provider that refuses the request itself (unknown client id, unregistered redirect URI)
   * shows its error in the browser and never redirects: hub can only tell how far the browser got.
   */
  function timedOut(): HubError {
    const waited = `No sign-in arrived within ${Math.round(options.timeoutMs / 1000)}s`;
    if (!started) {
      return new HubError(`${waited}: the sign-in link was not opened. hub stopped waiting.`, {
        code: 'login_timeout',
        suggestions: ['Run the command again and open the link it prints in a browser on this machine, or raise --timeout.'],
      });
    }
    return new HubError(
      `${waited}: the browser went to the identity provider but was not sent back to ${expectedHost}${CALLBACK_PATH}. hub stopped waiting.`,
      {
        code: 'login_timeout',
        suggestions: [...(options.checksWhenNotSentBack ?? []), 'If you were still signing in, run the command again, or raise --timeout.'],
      },
    );
  }
  const onAbort = () => fail(new HubError('Login cancelled.', {exit: ExitCode.cancelled, code: 'cancelled'}));
  options.signal?.addEventListener('abort', onAbort, {once: true});

  function fail(error: HubError): void {
    if (!settled) {
      settled = true;
      refuse(error);
    }
    void stop();
  }

  async function stop(): Promise<void> {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new HubError(`Cannot listen on 127.0.0.1:${options.port ?? 0} for the sign-in callback: ${error.code ?? error.message}.`, {
          code: 'loopback_unavailable',
          cause: error,
          suggestions: ['Choose another --port, or leave it out to let the system pick a free one.'],
        }),
      ),
    );
    server.listen({host: '127.0.0.1', port: options.port ?? 0}, resolve);
  });
  const {port} = server.address() as AddressInfo;
  expectedHost = `127.0.0.1:${port}`;
  if (options.signal?.aborted) onAbort();

  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    startUrl(target) {
      authorizationUrl = target;
      return `http://${expectedHost}${startPath}`;
    },
    callback,
    async finish(outcome) {
      if (pending) page(pending, outcome.ok ? 200 : 400, outcome);
      pending = undefined;
      await stop();
    },
  };
}

function addressesOf({remoteAddress, remotePort, localAddress, localPort}: Socket): LoopbackConnection {
  return {remoteAddress, remotePort, localAddress, localPort};
}

/** Whom the sign-in server does not serve: another user, or a client end the kernel does not list. */
function refusal(owner: ConnectionOwner): RefusedConnection | undefined {
  if (owner.kind === 'unlisted') return owner;
  if (owner.kind === 'user' && isAnotherUser(owner.uid)) return owner;
  return undefined;
}

function hasState(params: URLSearchParams, expectedState: string): boolean {
  return params.getAll('state').length === 1 && params.get('state') === expectedState;
}

/** A failure for a callback of this login that must not be used, or undefined when it carries a code. */
function checkCallback(params: URLSearchParams, explainRefusal: LoopbackOptions['explainRefusal']): HubError | undefined {
  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description');
    const explained = explainRefusal?.(error, description ?? undefined);
    if (explained) return explained;
    return new HubError(
      `The identity provider refused the sign-in: ${passedOn(error, QUOTED_LENGTH)}${description ? ` (${passedOn(description)})` : ''}.`,
      {
        code: 'provider_error',
        suggestions: ['Check with your identity provider administrator that you may use this registry, then try again.'],
      },
    );
  }
  if (params.getAll('code').length !== 1 || !params.get('code')) {
    return new HubError('The sign-in response carries no authorization code; nothing was stored.', {
      code: 'missing_code',
      suggestions: ['Run the login again.'],
    });
  }
  return undefined;
}

function requestUrl(req: IncomingMessage, host: string): URL | undefined {
  try {
    return new URL(req.url ?? '/', `http://${host}`);
  } catch {
    return undefined;
  }
}

function page(res: ServerResponse, status: number, outcome: PageOutcome): void {
  const title = outcome.ok ? 'Signed in' : 'Sign-in failed';
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hub: ${title}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36em;margin:4em auto">
<h1>${title}</h1><p>${escapeHtml(outcome.message)}</p>
<p>You can close this tab and return to the terminal.</p></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    connection: 'close',
  });
  res.end(body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
