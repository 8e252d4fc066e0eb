import {createServer, request, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {readFile, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {TestBrowser} from '@hub/test-stack/browser';
import {runHub, transcript, type RunningHub} from '@hub/test-stack/hub-cli';
import {closeServer, USERS, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {secretServiceCount, type Keyring} from '@hub/test-stack/keyring';
import {startLoginStack, type LoginStack} from '@hub/test-stack/login-stack';
import {e2eEnabled} from '@hub/test-stack/prerequisites';
import {canActAsAnotherUser, OTHER_USER_UID, runAsAnotherUser, sampleCommandLines} from '@hub/test-stack/process';
import type {Sandbox} from '@hub/test-stack/sandbox';

const [alice] = USERS as [(typeof USERS)[number]];
const REGISTRY = 'registry.test:5000';

describe.runIf(e2eEnabled())('hub login refuses hostile and broken input, and stores nothing', () => {
  let sandbox: Sandbox;
  let keyring: Keyring;
  let idp: IdentityProvider;
  let browser: TestBrowser;
  let env: NodeJS.ProcessEnv;

  let stack: LoginStack;

  beforeAll(async () => {
    stack = await startLoginStack();
    ({sandbox, keyring, idp, browser, env} = stack);
  });

  afterAll(() => stack?.stop());

  afterEach(async () => {
    expect(await secretServiceCount(keyring.env)).toBe(0);
    const status = await runHub(['status', '--json'], env);
    expect(JSON.parse(status.stdout)).toEqual([]);
  });

  function startLogin(extra: string[] = [], overrides: NodeJS.ProcessEnv = {}): RunningHub {
    return runHub(['login', REGISTRY, '--issuer', idp.issuer, '--client-id', idp.clientId, ...extra], {...env, ...overrides});
  }

  /** The loopback server's callback, next to the one-time link hub opened the browser on. */
  function callbackOf(link: string): {redirectUri: string} {
    return {redirectUri: `${new URL(link).origin}/callback`};
  }

  /** Follows the one-time link as the browser would (using it up): the authorization URL, its state and redirect URI. */
  async function openLink(link: string): Promise<{authorizationUrl: URL; redirectUri: string; state: string}> {
    const response = await fetch(link, {redirect: 'manual'});
    expect(response.status).toBe(302);
    const authorizationUrl = new URL(response.headers.get('location')!);
    return {
      authorizationUrl,
      redirectUri: authorizationUrl.searchParams.get('redirect_uri')!,
      state: authorizationUrl.searchParams.get('state')!,
    };
  }

  it('ignores a forged callback with the wrong state and still finishes the real sign-in', async () => {
    const login = startLogin();
    const link = await browser.nextUrl();
    // Another process that found the port: a real request, not the browser.
    const forged = await fetch(`${callbackOf(link).redirectUri}?code=attacker-code&state=attacker-state`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('was ignored');
    expect(await browser.signIn(link, alice)).toContain('Signed in');
    const result = await login;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Logged in to ${REGISTRY} as alice`);
    expect((await runHub(['logout', REGISTRY], env)).code).toBe(0);
  });

  it('gives the browser a one-time link, never the authorization request, as a command-line argument', async () => {
    const sampler = sampleCommandLines();
    const login = startLogin();
    const link = await browser.nextUrl();
    const {authorizationUrl} = await openLink(link);
    await browser.signIn(authorizationUrl.href, alice);
    const result = await login;
    const commandLines = await sampler.stop();
    // Signed out first, whatever is found below: the next tests start with an empty keychain.
    expect((await runHub(['logout', REGISTRY], env)).code).toBe(0);
    expect(result.code, result.stderr).toBe(0);
    // The browser hook was seen, with the link as its only URL.
    expect(
      commandLines.filter((line) => line.includes('browser-hook.mjs')).map((line) => line.endsWith(`browser-hook.mjs ${link}`)),
    ).toEqual([true]);
    const secrets = ['state', 'nonce', 'code_challenge'].map((name) => authorizationUrl.searchParams.get(name)!);
    for (const line of commandLines) {
      expect(line).not.toContain(authorizationUrl.origin + authorizationUrl.pathname);
      for (const secret of secrets) expect(line).not.toContain(secret);
    }
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[\w-]{20,}$/);
    expect(result.stderr).toContain(link);
    expect(result.stderr).not.toContain(secrets[0]);
  });

  /**
   * Another user's program: finds the sign-in link in some process's arguments in /proc and opens
   * it, in one of the ways such a program can: `fetch`; a raw request over an IPv6 socket to
   * ::ffff:127.0.0.1 (listed only in /proc/net/tcp6); a request whose socket is half-closed at
   * once (listed as FIN_WAIT, still able to read the answer); or one reset at once.
   */
  function linkThief(way: 'fetch' | 'mapped' | 'half-close' | 'reset'): string {
    return `
    import {readdir, readFile} from 'node:fs/promises';
    import {connect} from 'node:net';
    const way = ${JSON.stringify(way)};
    function raw(link, host) {
      const {port, pathname} = new URL(link);
      return new Promise((resolve) => {
        const socket = connect({host, port: Number(port)}, () => {
          socket.write('GET ' + pathname + ' HTTP/1.1\\r\\nHost: 127.0.0.1:' + port + '\\r\\n\\r\\n');
          if (way === 'half-close') socket.end();
          if (way === 'reset') { socket.resetAndDestroy(); resolve({link}); }
        });
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk));
        socket.on('error', () => {});
        socket.on('close', () => {
          const status = Number(/^HTTP\\/1\\.1 (\\d+)/.exec(answer)?.[1]);
          const location = /\\r\\nlocation: ([^\\r]*)/i.exec(answer)?.[1] ?? null;
          resolve({link, status, location});
        });
      });
    }
    async function linksNow() {
      const links = [];
      for (const pid of await readdir('/proc')) {
        if (!/^\\d+$/.test(pid)) continue;
        const args = (await readFile('/proc/' + pid + '/cmdline', 'utf8').catch(() => '')).split('\\0');
        links.push(...args.filter((arg) => /^http:\\/\\/127\\.0\\.0\\.1:\\d+\\/[\\w-]{20,}$/.test(arg)));
      }
      return links;
    }
    // Started before the login: a link seen now is an earlier login's, still in a lingering browser.
    const earlier = new Set(await linksNow());
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      for (const link of await linksNow()) {
        if (earlier.has(link)) continue;
        if (way === 'fetch') {
          const response = await fetch(link, {redirect: 'manual'});
          console.log(JSON.stringify({link, status: response.status, location: response.headers.get('location')}));
        } else {
          console.log(JSON.stringify(await raw(link, way === 'mapped' ? '::ffff:127.0.0.1' : '127.0.0.1')));
        }
        process.exit(0);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    process.exit(3);
  `;
  }

  const asAnotherUser = it.runIf(canActAsAnotherUser() || process.env.CI === 'true');

  // A half-closed connection may see no answer at all: node's server ends it on the client's FIN.
  asAnotherUser.each([
    ['fetch', [403], `another user of this machine (uid ${OTHER_USER_UID})`],
    ['mapped', [403], `another user of this machine (uid ${OTHER_USER_UID})`],
    ['half-close', [403, null], 'someone on this machine whose connection closed before hub could tell whose it was'],
  ] as const)(
    'another local user who reads the sign-in link in /proc and opens it first (%s) is refused; the person is warned and signs in',
    async (way, answers, who) => {
      const thief = runAsAnotherUser(linkThief(way));
      const login = startLogin();
      const link = await browser.nextUrl();
      // The worst order for the person: the other user's request comes before their own browser's.
      const stolen = await thief;
      expect(stolen.code, stolen.stderr).toBe(0);
      const {status, ...seen} = JSON.parse(stolen.stdout) as {status: number | null; link: string; location: string | null};
      expect(seen).toEqual({link, location: null});
      expect(answers).toContain(status);
      expect(await browser.signIn(link, alice)).toContain('Signed in');
      const result = await login;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`Warning: ${who} tried to use your sign-in link`);
      expect(result.stderr).toContain(`Logged in to ${REGISTRY} as alice`);
      expect((await runHub(['logout', REGISTRY], env)).code).toBe(0);
    },
  );

  asAnotherUser('another local user who sends the sign-in link and resets the connection at once cannot use the link up', async () => {
    const thief = runAsAnotherUser(linkThief('reset'));
    const login = startLogin();
    const link = await browser.nextUrl();
    const stolen = await thief;
    expect(stolen.code, stolen.stderr).toBe(0);
    expect(JSON.parse(stolen.stdout)).toEqual({link});
    // Time for hub to take the request, if the kernel handed it over before the reset.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await browser.signIn(link, alice)).toContain('Signed in');
    const result = await login;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('opened a second time');
    expect(result.stderr).toContain(`Logged in to ${REGISTRY} as alice`);
    expect((await runHub(['logout', REGISTRY], env)).code).toBe(0);
  });

  it('ends the login with a warning when the sign-in link is opened twice (someone else opened it first)', async () => {
    const login = startLogin();
    const link = await browser.nextUrl();
    // Another local user who read the link fetches it first; the person's own browser comes second.
    expect((await fetch(link, {redirect: 'manual'})).status).toBe(302);
    const page = await browser.visit(link);
    expect(page.status).toBe(400);
    const result = await login;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The sign-in link was opened a second time: someone else on this machine may have it');
  });

  it('rejects a callback without a code', async () => {
    const login = startLogin();
    const {redirectUri, state} = await openLink(await browser.nextUrl());
    const page = await browser.visit(`${redirectUri}?state=${state}`);
    expect(page.status).toBe(400);
    const result = await login;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no authorization code');
  });

  it("shows the provider's error=access_denied with its description", async () => {
    const login = startLogin();
    const page = await browser.deny(await browser.nextUrl());
    expect(page).toContain('access_denied');
    const result = await login;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('access_denied (The user refused to sign in.)');
  });

  it('shows a provider error on the page as text, never as markup', async () => {
    const login = startLogin();
    const {redirectUri, state} = await openLink(await browser.nextUrl());
    const hostile = encodeURIComponent('<img src=x onerror="document.title=\'pwned\'"><b>bold</b>');
    const page = await browser.visit(`${redirectUri}?state=${state}&error=invalid_request&error_description=${hostile}`);
    expect(page.text).toContain('<img src=x');
    const result = await login;
    expect(result.code).toBe(1);
  });

  it('answers other paths and foreign Host headers with 404/400, keeps waiting, then takes one callback only', async () => {
    const login = startLogin();
    const url = await browser.nextUrl();
    const {redirectUri} = callbackOf(url);
    const origin = new URL(redirectUri).origin;
    expect((await fetch(`${origin}/`)).status).toBe(404);
    expect((await fetch(`${origin}/favicon.ico`)).status).toBe(404);
    expect((await fetch(redirectUri, {method: 'POST'})).status).toBe(404);
    // DNS rebinding: a page on evil.test resolving to 127.0.0.1 sends its own Host.
    expect(await statusWithHost(`${redirectUri}?code=x&state=y`, 'evil.test')).toBe(400);

    await browser.signIn(url, alice);
    const result = await login;
    expect(result.code).toBe(0);
    // The server is gone: a second callback finds nobody listening.
    await expect(fetch(`${redirectUri}?code=again&state=again`)).rejects.toThrow();
    const out = await runHub(['logout', REGISTRY], env);
    expect(out.code).toBe(0);
  });

  it('listens on 127.0.0.1 only, so nothing off this machine can reach it', async () => {
    const login = startLogin(['--timeout', '3']);
    const {redirectUri} = callbackOf(await browser.nextUrl());
    const port = Number(new URL(redirectUri).port).toString(16).toUpperCase().padStart(4, '0');
    // /proc/net/tcp lists listening sockets (state 0A) as hex address:port; 0100007F is 127.0.0.1.
    const listening = (await readFile('/proc/net/tcp', 'utf8'))
      .split('\n')
      .filter((line) => line.includes(`:${port} `) && / 0A /.test(line));
    expect(listening.map((line) => line.trim().split(/\s+/)[1])).toEqual([`0100007F:${port}`]);
    expect((await login).code).toBe(1);
  });

  it('waits for a slow identity provider and still signs in', async () => {
    idp.behave({delayMs: 1500});
    try {
      const login = startLogin();
      await browser.signIn(await browser.nextUrl(), alice);
      const result = await login;
      expect(result.code, result.stderr).toBe(0);
    } finally {
      idp.behave({delayMs: 0});
    }
    expect((await runHub(['logout', REGISTRY], env)).code).toBe(0);
  });

  it('gives up after --timeout and leaves nothing listening', async () => {
    const login = startLogin(['--timeout', '2']);
    const {redirectUri} = callbackOf(await browser.nextUrl());
    const result = await login;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No sign-in arrived within 2s');
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it('says the browser could not be opened when HUB_BROWSER fails, and prints the link to open by hand', async () => {
    const result = await startLogin(['--timeout', '2'], {HUB_BROWSER: '/bin/false'});
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('Opened your browser');
    expect(result.stderr).toMatch(
      /Could not open a browser here\. Open this link in a browser on this machine to sign in \(it works once\):\n {2}http:\/\/127\.0\.0\.1:\d+\/\S+\n/,
    );
    expect(result.stderr).toContain('No sign-in arrived within 2s: the sign-in link was not opened.');
  });

  it('with a client id the provider does not know, says on timeout what to check (its error page never reaches hub)', async () => {
    const login = runHub(['login', REGISTRY, '--issuer', idp.issuer, '--client-id', 'not-registered', '--timeout', '3'], env);
    const {authorizationUrl} = await openLink(await browser.nextUrl());
    // What the person's browser shows: the provider's own error page, with no redirect back to hub.
    const shown = await fetch(authorizationUrl, {redirect: 'manual'});
    expect(shown.status).toBe(400);
    expect(await shown.text()).toContain('invalid_client');
    const result = await login;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'No sign-in arrived within 3s: the browser went to the identity provider but was not sent back to 127.0.0.1:',
    );
    expect(result.stderr).toContain('Look at the page in the browser: an error there (such as invalid_client');
    expect(result.stderr).toContain(
      `Check that the client id not-registered is registered at ${idp.issuer} (--client-id, HUB_CLIENT_ID) and allows the redirect URI http://127.0.0.1/callback on any port.`,
    );
  });

  it('stops on Ctrl-C with exit code 130 and leaves nothing listening', async () => {
    const login = startLogin();
    const {redirectUri} = callbackOf(await browser.nextUrl());
    login.child.kill('SIGINT');
    const result = await login;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Login cancelled');
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it('says so when the issuer cannot be reached', async () => {
    const closed = await unusedPort();
    const result = await runHub(['login', REGISTRY, '--issuer', `http://127.0.0.1:${closed}`, '--client-id', 'hub-cli'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot reach the identity provider at http://127.0.0.1:${closed}/`);
  });

  it('says so when the discovery document is invalid', async () => {
    const server = await serve((_req, res) => res.writeHead(200, {'content-type': 'application/json'}).end('{"issuer": 42}'));
    try {
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await runHub(['login', REGISTRY, '--issuer', issuer, '--client-id', 'hub-cli'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('did not return a valid OpenID Connect discovery document');
    } finally {
      await closeServer(server);
    }
  });

  it('rejects an ID token whose nonce is not the one hub sent', async () => {
    const login = startLogin();
    const {authorizationUrl: url} = await openLink(await browser.nextUrl());
    url.searchParams.set('nonce', 'a-nonce-hub-never-sent');
    await browser.signIn(url.href, alice);
    const result = await login;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/could not be trusted[\s\S]*nonce/);
  });

  it('without a Secret Service, refuses before the browser opens and offers --insecure-storage', async () => {
    const noKeyring = {DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(sandbox.dir, 'no-bus')}`};
    const result = await startLogin([], noKeyring);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('keychain cannot be used');
    expect(result.stderr).toContain('--insecure-storage');
    await expect(browser.nextUrl(500)).rejects.toThrow('did not open');
  });

  it('with --insecure-storage and no Secret Service, keeps tokens in a 0600 file and warns on every use', async () => {
    const noKeyring = {...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(sandbox.dir, 'no-bus')}`};
    const login = startLogin(['--insecure-storage'], noKeyring);
    await browser.signIn(await browser.nextUrl(), alice);
    const result = await login;
    expect(result.code).toBe(0);
    const file = join(sandbox.configDir, 'insecure-sessions.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8')) as {sessions: Record<string, {accessToken: string}>};
    const accessToken = stored.sessions[`alice@${REGISTRY}`]!.accessToken;

    const token = await runHub(['token', REGISTRY], noKeyring);
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toBe(accessToken);
    expect(token.stderr.match(/stored unencrypted/g)).toHaveLength(1);
    const status = await runHub(['status'], noKeyring);
    expect(status.stderr).toContain(`plain file ${file}`);

    const out = await runHub(['logout', REGISTRY], noKeyring);
    expect(out.code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({sessions: {}});
    for (const {stderr} of transcript) expect(stderr).not.toContain(accessToken);
  });
});

function serve(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function unusedPort(): Promise<number> {
  const server = await serve(() => {});
  const {port} = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {headers: {host}}, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}
