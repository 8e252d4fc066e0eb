import {request} from 'node:http';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {startLoopbackServer, type LoopbackServer, type RefusedConnection} from '../../../src/auth/loopback.js';
import type {ConnectionOwner} from '../../../src/auth/local-peer.js';
import {HubError} from '@hub/common/errors';
import {anyString, unicodeLookalikes} from '@hub/test-stack/properties';

/** fuzz cases per property: each starts a real server on 127.0.0.1 and sends real requests. */
const RUNS = 100;

interface Sent {
  method: string;
  /** The request target exactly as it goes on the wire. */
  target: string;
  /** The Host header; `undefined` means the right one, 127.0.0.1:PORT. */
  host?: string;
}

type Answer = {status: number; body: string} | {error: string};

function send(port: number, {method, target, host}: Sent): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {host: '127.0.0.1', port, method, path: target, agent: false, headers: {host: host ?? `127.0.0.1:${port}`}},
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}));
        res.on('error', (error) => resolve({error: error.message}));
      },
    );
    req.on('error', (error) => resolve({error: `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`}));
    // No answer at all is a failure of its own, reported rather than hanging the run.
    req.setTimeout(3000, () => {
      resolve({error: 'no answer within 3 s'});
      req.destroy();
    });
    req.end();
  });
}

/** Visible ASCII goes as it is; anything else is percent-encoded as UTF-8, as a browser does. */
function onTheWire(text: string): string {
  return [...text]
    .map((c) =>
      /^[\x21-\x7e]$/.test(c) ? c : [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''),
    )
    .join('');
}

/**
 * Whether Node's HTTP parser hands the request to the server's handler at all: a request target
 * must be origin-form (`/…`), absolute-form or `*`. Node answers any other with its own 400 before
 * hub sees it, which leaves the login waiting — below hub, and still a 4xx.
 */
function reachesHandler(target: string): boolean {
  return /^(?:\/|\*$|[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)/.test(target);
}

/** Lone surrogates become U+FFFD, as in any UTF-8 round trip (encodeURIComponent throws on them). */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** What the WHATWG URL parser (the browser's, and the server's) makes of a request target. */
function meaning(target: string, port: number): URL | undefined {
  try {
    return new URL(target, `http://127.0.0.1:${port}`);
  } catch {
    return undefined;
  }
}

/** The one callback the login may use: exactly one state equal to ours, no error, exactly one non-empty code. */
function isGoodCallback(url: URL, expectedState: string): boolean {
  const state = url.searchParams.getAll('state');
  const code = url.searchParams.getAll('code');
  return state.length === 1 && state[0] === expectedState && !url.searchParams.has('error') && code.length === 1 && code[0] !== '';
}

const stateValue = fc.oneof(
  fc.string({unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 1, maxLength: 43}),
  fc.string({minLength: 1, maxLength: 20}),
  fc.string({unit: fc.constantFrom(...unicodeLookalikes, '+', '&', '=', '%', ' ', '#'), minLength: 1, maxLength: 6}),
);

/** One `key=value` pair of a query string; values may be the expected state, a look-alike of it, or junk. */
function queryPair(expectedState: string): fc.Arbitrary<string> {
  const key = fc.oneof(
    {weight: 6, arbitrary: fc.constantFrom('state', 'code')},
    {weight: 2, arbitrary: fc.constantFrom('error', 'error_description', 'iss', 'session_state')},
    {weight: 2, arbitrary: fc.constantFrom('st%61te', 'STATE', 'state%00', 'state ', 'c%6fde', 'code[]', 'state;', '%73tate', 'code%20')},
    {weight: 1, arbitrary: anyString(8)},
  );
  const value = fc.oneof(
    {weight: 5, arbitrary: fc.constant(expectedState)},
    {weight: 3, arbitrary: fc.string({unit: fc.constantFrom(...'abcXYZ0189-_.~'), maxLength: 30})},
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        '%',
        '%zz',
        '%00',
        '+',
        '&',
        '#',
        '%23',
        `${expectedState} `,
        ` ${expectedState}`,
        expectedState.toUpperCase(),
        `${expectedState}%00`,
        expectedState.slice(1),
      ),
    },
    {weight: 1, arbitrary: anyString(20)},
  );
  return fc
    .tuple(key, value, fc.constantFrom('encoded', 'encoded', 'raw'))
    .map(([k, v, how]) => (how === 'raw' ? `${k}=${v}` : `${k}=${encodeURIComponent(wellFormed(v))}`));
}

function callbackRequest(expectedState: string): fc.Arbitrary<Sent> {
  const path = fc.oneof(
    {weight: 8, arbitrary: fc.constant('/callback')},
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '/callback/',
        '/Callback',
        '//callback',
        '/a/../callback',
        '/./callback',
        '/%63allback',
        '/callback;x',
        '\\callback',
        '/callback%2f',
        'http://evil.example/callback',
        '/callback/..',
        '*',
      ),
    },
    {weight: 2, arbitrary: fc.webPath()},
  );
  return fc
    .record({
      method: fc.oneof(
        {weight: 8, arbitrary: fc.constant('GET')},
        {weight: 1, arbitrary: fc.constantFrom('POST', 'HEAD', 'PUT', 'OPTIONS', 'get')},
      ),
      path,
      pairs: fc.oneof(
        // What the provider sends, maybe with something added: often good, sometimes spoiled by the extra.
        fc
          .tuple(
            fc.string({unit: fc.constantFrom(...'abcXYZ0189-_.~'), minLength: 1, maxLength: 30}),
            fc.array(queryPair(expectedState), {maxLength: 2}),
            fc.boolean(),
          )
          .map(([code, extra, codeFirst]) => {
            const base = [`state=${encodeURIComponent(wellFormed(expectedState))}`, `code=${code}`];
            return [...(codeFirst ? base.reverse() : base), ...extra];
          }),
        fc.array(queryPair(expectedState), {maxLength: 5}),
      ),
      separator: fc.constantFrom('&', '&', '&', ';', '&&'),
      fragment: fc.oneof(
        {weight: 8, arbitrary: fc.constant('')},
        {weight: 1, arbitrary: fc.constantFrom('#', `#state=${expectedState}`, '#x')},
      ),
      // undefined: the right Host header; else DNS-rebinding look-alikes.
      host: fc.oneof(
        {weight: 8, arbitrary: fc.constant(undefined)},
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'localhost:PORT',
            '127.0.0.1',
            'evil.example',
            '127.0.0.1:PORT.evil.example',
            '127.0.0.2:PORT',
            '[::1]:PORT',
            '127.0.0.1:PORT ',
          ),
        },
      ),
    })
    .map(({method, path, pairs, separator, fragment, host}) => ({
      method,
      target: onTheWire(`${path}${pairs.length > 0 ? '?' : ''}${pairs.join(separator)}${fragment}`),
      ...(host === undefined ? {} : {host}),
    }));
}

/** Anything at all as a request target: random web paths and query strings, random text. */
const randomRequest: fc.Arbitrary<Sent> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'DELETE'),
  target: fc.oneof(
    fc
      .tuple(fc.webPath(), fc.option(fc.webQueryParameters(), {nil: undefined}))
      .map(([p, q]) => onTheWire(`${p || '/'}${q === undefined ? '' : `?${q}`}`)),
    fc.tuple(fc.webPath(), anyString(60)).map(([p, q]) => onTheWire(`${p || '/'}?${q}`)),
    anyString(80).map((s) => onTheWire(`/${s}`)),
  ),
});

type Settled = {outcome: 'pending'} | {outcome: 'resolved'; url: URL} | {outcome: 'rejected'; error: unknown};

/** How the callback stands `ms` after its request was answered (or, for the deciding one, sent). */
async function settledWithin(server: LoopbackServer, ms: number): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<Settled>((resolve) => (timer = setTimeout(() => resolve({outcome: 'pending'}), ms)));
  return Promise.race([
    server.callback.then(
      (url): Settled => ({outcome: 'resolved', url}),
      (error: unknown): Settled => ({outcome: 'rejected', error}),
    ),
    pending,
  ]).finally(() => clearTimeout(timer));
}

/**
 * Sends `requests` in order to a fresh server, up to the first one that decides the login (a GET of
 * /callback with the right Host and our state), and checks every answer and what the callback did.
 */
async function exercise(expectedState: string, requests: readonly Sent[]): Promise<void> {
  const server = await startLoopbackServer({port: 0, expectedState, timeoutMs: 60_000});
  const port = Number(new URL(server.redirectUri).port);
  try {
    for (const sent of requests) {
      const wire = {...sent, ...(sent.host === undefined ? {} : {host: sent.host.replace('PORT', String(port))})};
      const url = meaning(wire.target, port);
      // A header value's surrounding whitespace is not part of it (RFC 9110 §5.5), so `Host: 127.0.0.1:PORT ` is right.
      const host = wire.host?.trim() ?? `127.0.0.1:${port}`;
      // Node's client sends the method upper-cased.
      // A callback without exactly our state is answered and ignored: a forged one must not end the login.
      const states = url?.searchParams.getAll('state');
      const ours = states?.length === 1 && states[0] === expectedState;
      const decides =
        reachesHandler(wire.target) &&
        wire.method.toUpperCase() === 'GET' &&
        host === `127.0.0.1:${port}` &&
        url?.pathname === '/callback' &&
        ours;
      const answering = send(port, wire);

      if (!decides) {
        const answer = await answering;
        expect(answer).toMatchObject({status: expect.any(Number)});
        const {status} = answer as {status: number};
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
        expect((await settledWithin(server, 5)).outcome).toBe('pending');
        continue;
      }

      const settled = await settledWithin(server, 3000);
      if (isGoodCallback(url, expectedState)) {
        expect(settled.outcome).toBe('resolved');
        const resolved = (settled as {url: URL}).url;
        expect(resolved.searchParams.getAll('state')).toEqual([expectedState]);
        expect(resolved.searchParams.getAll('code')).toEqual([url.searchParams.get('code')]);
        await server.finish({ok: true, message: 'Signed in.'});
        expect(await answering).toMatchObject({status: 200});
      } else {
        // Anything else is refused: the login fails with a HubError and the browser gets a 4xx page.
        expect(settled.outcome).toBe('rejected');
        expect((settled as {error: unknown}).error).toBeInstanceOf(HubError);
        const answer = await answering;
        expect(answer, `the refusal page for ${wire.target}`).toMatchObject({status: 400});
      }
      return;
    }
    expect((await settledWithin(server, 5)).outcome).toBe('pending');
  } finally {
    await server.finish({ok: false, message: 'done'});
  }
}

describe('the loopback callback server (property-based, real HTTP)', () => {
  it('resolves only for a GET /callback with our state and exactly one non-empty code; other states are ignored, anything else gets a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        stateValue.chain((expectedState) =>
          fc.tuple(
            fc.constant(expectedState),
            fc.array(fc.oneof(randomRequest, callbackRequest(expectedState)), {maxLength: 2}),
            callbackRequest(expectedState),
          ),
        ),
        async ([expectedState, before, last]) => {
          await exercise(expectedState, [...before, last]);
        },
      ),
      {numRuns: RUNS},
    );
  }, 60_000);

  it('answers random paths and query strings with a 4xx and keeps waiting, then still takes the real callback', async () => {
    await fc.assert(
      fc.asyncProperty(stateValue, fc.array(randomRequest, {minLength: 1, maxLength: 3}), async (expectedState, junk) => {
        const state = wellFormed(expectedState);
        const callback: Sent = {method: 'GET', target: `/callback?state=${encodeURIComponent(state)}&code=abc`};
        // exercise() requires this last request to resolve the callback.
        await exercise(state, [...junk.filter((r) => meaning(r.target, 1)?.pathname !== '/callback'), callback]);
      }),
      {numRuns: RUNS},
    );
  }, 60_000);

  it('redirects its one-time link to the provider once; a second visit ends the login', async () => {
    const server = await startLoopbackServer({port: 0, expectedState: 'our-state', timeoutMs: 60_000});
    const authorizationUrl = new URL('https://id.example/authorize?state=our-state&nonce=n&code_challenge=c');
    const link = new URL(server.startUrl(authorizationUrl));
    const port = Number(link.port);
    try {
      expect(link.origin).toBe(new URL(server.redirectUri).origin);
      expect(link.href).not.toContain('our-state');
      expect(await send(port, {method: 'GET', target: `${link.pathname}x`})).toMatchObject({status: 404});
      expect(await send(port, {method: 'GET', target: link.pathname})).toMatchObject({status: 302});
      expect((await settledWithin(server, 5)).outcome).toBe('pending');
      expect(await send(port, {method: 'GET', target: link.pathname})).toMatchObject({status: 400});
      const settled = await settledWithin(server, 3000);
      expect(settled.outcome).toBe('rejected');
      expect((settled as {error: HubError}).error.code).toBe('sign_in_link_reused');
    } finally {
      await server.finish({ok: false, message: 'done'});
    }
  });

  it("passes on at most a few hundred characters of the provider's error, on the page and in the error", async () => {
    const server = await startLoopbackServer({port: 0, expectedState: 'our-state', timeoutMs: 60_000});
    const port = Number(new URL(server.redirectUri).port);
    const description = 'd'.repeat(8 * 1024);
    const page = send(port, {
      method: 'GET',
      target: `/callback?state=our-state&error=${'e'.repeat(4 * 1024)}&error_description=${description}`,
    });
    const settled = await settledWithin(server, 3000);
    expect(settled.outcome).toBe('rejected');
    const {message} = (settled as {error: HubError}).error;
    expect(message).toMatch(
      /^The identity provider refused the sign-in: e{100}… \(\d+ more characters cut\) \(d{300}… \(\d+ more characters cut\)\)\.$/,
    );
    const answer = (await page) as {status: number; body: string};
    expect(answer.status).toBe(400);
    expect(answer.body.length).toBeLessThan(1500);
  });

  it('refuses the link and the callback to another user of the machine without using the link up, says so once, and still serves its own', async () => {
    const own: ConnectionOwner = {kind: 'user', uid: process.getuid?.() ?? 1000};
    // The first three requests come from uid 4242, the rest from this process's own user.
    const {server, refused} = await ownedBy(
      [
        {kind: 'user', uid: 4242},
        {kind: 'user', uid: 4242},
        {kind: 'user', uid: 4242},
      ],
      own,
    );
    const link = new URL(server.startUrl(new URL('https://id.example/authorize?state=our-state')));
    const port = Number(link.port);
    try {
      const answer = await send(port, {method: 'GET', target: link.pathname});
      expect(answer).toMatchObject({status: 403});
      expect((answer as {body: string}).body).not.toContain('id.example');
      expect(await send(port, {method: 'GET', target: '/callback?state=our-state&code=stolen'})).toMatchObject({status: 403});
      expect(await send(port, {method: 'GET', target: link.pathname})).toMatchObject({status: 403});
      expect(refused).toEqual([{kind: 'user', uid: 4242}]);
      expect((await settledWithin(server, 5)).outcome).toBe('pending');
      expect(await send(port, {method: 'GET', target: link.pathname})).toMatchObject({status: 302});
      const callback = send(port, {method: 'GET', target: '/callback?state=our-state&code=ours'});
      expect((await server.callback).searchParams.get('code')).toBe('ours');
      await server.finish({ok: true, message: 'Signed in'});
      expect(await callback).toMatchObject({status: 200});
    } finally {
      await server.finish({ok: false, message: 'done'});
    }
  });

  it('fails closed on a connection the kernel does not list (closed or reset at once): refused, link kept, said once', async () => {
    const {server, refused} = await ownedBy([{kind: 'unlisted'}, {kind: 'unlisted'}], {kind: 'untold'});
    const link = new URL(server.startUrl(new URL('https://id.example/authorize?state=our-state')));
    const port = Number(link.port);
    try {
      expect(await send(port, {method: 'GET', target: link.pathname})).toMatchObject({status: 403});
      expect(await send(port, {method: 'GET', target: '/callback?state=our-state&code=stolen'})).toMatchObject({status: 403});
      expect(refused).toEqual([{kind: 'unlisted'}]);
      expect((await settledWithin(server, 5)).outcome).toBe('pending');
      // Where the system cannot tell at all (no /proc), the person's browser is served.
      expect(await send(port, {method: 'GET', target: link.pathname})).toMatchObject({status: 302});
    } finally {
      await server.finish({ok: false, message: 'done'});
    }
  });

  /** A loopback server whose connections are owned, in turn, by `first`, then all by `rest`; and what it said it refused. */
  async function ownedBy(first: ConnectionOwner[], rest: ConnectionOwner): Promise<{server: LoopbackServer; refused: RefusedConnection[]}> {
    const refused: RefusedConnection[] = [];
    const owners = [...first];
    const server = await startLoopbackServer({
      port: 0,
      expectedState: 'our-state',
      timeoutMs: 60_000,
      connectionOwner: async () => owners.shift() ?? rest,
      onRefused: (connection) => refused.push(connection),
    });
    return {server, refused};
  }
});
