import {execFile} from 'node:child_process';
import {createServer, type IncomingHttpHeaders} from 'node:http';
import type {AddressInfo} from 'node:net';
import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeImage} from '@hub/test-stack/docker-engine';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {runHub} from '@hub/test-stack/hub-cli';
import {closeServer, ROBOT_CLIENT, USERS} from '@hub/test-stack/identity-provider';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';
import {startRegistry} from '@hub/test-stack/registry';
import {freeBlockedPort} from '@hub/test-stack/ports';

const [alice] = USERS as [(typeof USERS)[number]];

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('login anywhere: zero-config, device flow, CI tokens, robots', () => {
  let stack: RegistryStack;
  let registry: string;
  let env: NodeJS.ProcessEnv;
  /** No browser hook and no display: what an SSH session or a container looks like. */
  let headlessEnv: NodeJS.ProcessEnv;
  /** Nothing but the engine and PATH: a CI job with no keychain and no hub config. */
  let ciEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // On a port browsers block (10080): docker uses it, and so must hub and hub-auth (not fetch).
    stack = await startRegistryStack({registryPort: await freeBlockedPort()});
    registry = stack.registry.host;
    ({env} = await withHubOnPath(stack.sandbox.dir, stack.env));
    const {HUB_BROWSER: _browser, HUB_TEST_BROWSER_INBOX: _inbox, ...rest} = env;
    headlessEnv = rest;
    ciEnv = {
      ...env,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(stack.sandbox.dir, 'no-bus')}`,
      HUB_CONFIG_DIR: join(stack.sandbox.dir, 'ci-config'),
    };
  });

  afterAll(() => stack?.stop());

  function docker(args: string[], runEnv: NodeJS.ProcessEnv): Promise<{code: number; output: string}> {
    return new Promise((resolve) => {
      execFile('docker', args, {env: runEnv}, (error, stdout, stderr) =>
        resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`}),
      );
    });
  }

  /** `docker-credential-hub get`, as docker runs it. */
  function credentialHelperGet(serverUrl: string, runEnv: NodeJS.ProcessEnv): Promise<{code: number; stdout: string}> {
    return new Promise((resolve) => {
      const child = execFile('docker-credential-hub', ['get'], {env: runEnv}, (error, stdout) =>
        resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, stdout}),
      );
      child.stdin?.end(`${serverUrl}\n`);
    });
  }

  /** Runs hub until its stderr shows a device-flow URL, and hands the URL over. */
  function startDeviceLogin(args: string[], runEnv: NodeJS.ProcessEnv) {
    let found!: (url: string) => void;
    const url = new Promise<string>((resolve) => (found = resolve));
    const done = runHub(['login', registry, ...args], runEnv, {
      onStderr: (text) => {
        const match = /or open (\S+)/.exec(text);
        if (match) found(match[1]!);
      },
    });
    return {url, done};
  }

  it('logs in with nothing but the registry name, on a port browsers block: settings come from hub-auth', async () => {
    expect(registry).toMatch(/:(10080|6000|6665|5060|4190)$/);
    const login = runHub(['login', registry], env);
    await stack.browser.signIn(await stack.browser.nextUrl(), alice);
    const result = await login;
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse((await runHub(['status', '--json'], env)).stdout) as Array<{
      registry: string;
      issuer: string;
      account: string;
    }>;
    expect(status).toMatchObject([{registry, issuer: stack.idp.issuer, account: 'alice'}]);
    // The audience came along too: the token is a JWT for the registry, and a push works.
    await makeImage(env, stack.sandbox.dir, 'zero:1');
    const push = await runHub(['push', 'zero:1', '-q'], env);
    expect(push.code, push.stderr).toBe(0);
    // hub-auth reads the catalog on that port too.
    expect((await runHub(['images'], env)).stdout).toContain(`${registry}/alice/zero\n`);
    // The registry name is normalised as docker does.
    expect((await runHub(['token', `http://${registry}/`], env)).code).toBe(0);
  });

  it('says a host whose /v2/ is 404 has no registry API there, rather than to pass --issuer', async () => {
    const plain = createServer((_req, res) => res.writeHead(404).end('404 page not found'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
      const result = await runHub(['login', host], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${host} has no registry API: GET http://${host}/v2/ answered HTTP 404.`);
      expect(result.stderr).not.toContain('--issuer');
    } finally {
      await closeServer(plain);
    }
  });

  it('says clearly when a registry is not a hub registry', async () => {
    const plain = createServer((_req, res) => res.writeHead(401, {'www-authenticate': 'Basic realm="registry"'}).end());
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const result = await runHub(['login', `127.0.0.1:${(plain.address() as AddressInfo).port}`], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('it is not a registry behind hub-auth');
      expect(result.stderr).toContain('--issuer and --client-id');
    } finally {
      await closeServer(plain);
    }
  });

  it('shows the issuer a registry publishes without the control characters in it', async () => {
    // A hostile hub-configuration: an issuer that, printed raw, would erase its own line and show
    // a trusted one, set the window title and hide a hyperlink.
    const hostile = createServer((req, res) => {
      const origin = `http://${req.headers.host}`;
      if (req.url === '/v2/') return res.writeHead(401, {'www-authenticate': `Bearer realm="${origin}/token",service="hostile"`}).end();
      if (req.url === '/.well-known/hub-configuration') {
        const issuer = `${origin}/realms/dev\x1b[2K\x1b[1G\x1b]0;owned\x07\x1b]8;;https://evil.example\x1b\\https://id.example.com\x1b]8;;\x1b\\\u202e`;
        return res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({issuer, client_id: 'hub\x1b[8m'}));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(hostile.address() as AddressInfo).port}`;
      const result = await runHub(['login', host, '--insecure-storage', '--docker-config', 'none'], {
        ...headlessEnv,
        HUB_CONFIG_DIR: join(stack.sandbox.dir, 'hostile-config'),
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`Signing in to ${host} at http://${host}/realms/devhttps://id.example.com`);
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    } finally {
      await closeServer(hostile);
    }
  });

  it('signs in with the device flow, in a browser elsewhere; the browser opened here gets no code in its arguments', async () => {
    const {url, done: login} = startDeviceLogin(['--device'], env);
    const opened = await stack.browser.nextUrl();
    expect(opened).toMatch(/\/device$/);
    // The person enters the code shown in the terminal (here: the complete URL printed there).
    expect(await stack.browser.approveDevice(await url, alice)).toContain('Sign-in Success');
    const result = await login;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/enter the code [A-Z]{4}-[A-Z]{4}/);
    expect(result.stderr).toContain(`Logged in to ${registry} as alice`);
  });

  it('chooses the device flow by itself when no browser can open here', async () => {
    const {url, done} = startDeviceLogin([], headlessEnv);
    await stack.browser.approveDevice(await url, alice);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('No browser can be opened here');
  });

  it('backs off when the provider says slow_down, and still finishes', async () => {
    stack.idp.behave({slowDowns: 1});
    const {url, done} = startDeviceLogin(['--device'], headlessEnv);
    await stack.browser.approveDevice(await url, alice);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(stack.idp.tokenRequestTimes.length).toBeGreaterThanOrEqual(2);
    const [slowedDown, next] = stack.idp.tokenRequestTimes.slice(-2) as [number, number];
    expect(next - slowedDown).toBeGreaterThanOrEqual(5000); // RFC 8628: the interval grows by 5 s
  });

  it('stops with a clear message on access_denied and on expired_token', async () => {
    const denied = startDeviceLogin(['--device'], headlessEnv);
    await stack.browser.denyDevice(await denied.url);
    const refused = await denied.done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('The sign-in was refused at the identity provider');

    stack.idp.behave({deviceCodeTtl: 2});
    try {
      const expired = await startDeviceLogin(['--device'], headlessEnv).done;
      expect(expired.code).toBe(1);
      expect(expired.stderr).toContain('The code expired before the sign-in was finished');
    } finally {
      stack.idp.behave({deviceCodeTtl: 600});
    }
  });

  it('ends a device login that nobody approves after --timeout, with a clear message', async () => {
    const result = await startDeviceLogin(['--device', '--timeout', '3'], headlessEnv).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('hub waits 3s');
    expect(result.stderr).toContain('No sign-in arrived within 3s; hub stopped waiting and stored nothing.');
    expect(result.stderr).toContain('raise --timeout');
  });

  it('HUB_TOKEN pushes and pulls without any keychain or config', async () => {
    const token = (await runHub(['token', registry], env)).stdout.trim();
    const ci = {...ciEnv, HUB_TOKEN: token, HUB_REGISTRY: registry};
    await makeImage(ci, stack.sandbox.dir, 'from-ci:1');
    const push = await runHub(['push', 'from-ci:1', '-q', '--json'], ci);
    expect(push.code, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({reference: `${registry}/alice/from-ci:1`});
    // Plain docker too, through the helper, which hands out HUB_TOKEN.
    const dockerConfig = join(stack.sandbox.dir, 'ci-docker');
    await import('node:fs/promises').then((fs) => fs.mkdir(dockerConfig, {recursive: true}));
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({credHelpers: {[registry]: 'hub'}}));
    const ciDocker = {...ci, DOCKER_CONFIG: dockerConfig};
    expect((await docker(['rmi', `${registry}/alice/from-ci:1`], ciDocker)).code).toBe(0);
    const pull = await docker(['pull', `${registry}/alice/from-ci:1`], ciDocker);
    expect(pull.code, pull.output).toBe(0);
    const pulled = await runHub(['pull', 'from-ci:1', '-q'], ci);
    expect(pulled.code, pulled.stderr).toBe(0);
  });

  it("HUB_TOKEN goes to HUB_REGISTRY only: another registry's realm never sees it", async () => {
    const token = (await runHub(['token', registry], env)).stdout.trim();
    expect(token).not.toBe('');
    // The attacker: a second registry whose token realm keeps whatever credentials come to it.
    const received: Array<{url: string; headers: IncomingHttpHeaders}> = [];
    const realm = createServer((req, res) => {
      received.push({url: req.url ?? '', headers: req.headers});
      res.writeHead(401, {'content-type': 'application/json'}).end('{"details":"no"}');
    });
    await new Promise<void>((resolve) => realm.listen(0, '127.0.0.1', resolve));
    const other = await startRegistry(join(stack.sandbox.dir, 'other-registry'), {
      realm: `http://127.0.0.1:${(realm.address() as AddressInfo).port}/token`,
      service: 'other-registry',
      issuer: 'other-realm',
      rootCertBundle: stack.signing.certificate,
    });
    try {
      const ci = {...ciEnv, HUB_TOKEN: token, HUB_REGISTRY: registry};
      const image = `${other.host}/alice/elsewhere:1`;
      await makeImage(ci, stack.sandbox.dir, image);
      const attempts = {
        pull: await runHub(['pull', image, '-q'], ci),
        push: await runHub(['push', image, '-q'], ci),
        pushByFlag: await runHub(['push', 'elsewhere:1', '-q', '--registry', other.host], ci),
        images: await runHub(['images', '--registry', other.host], ci),
        token: await runHub(['token', other.host], ci),
      };
      // docker with hub as the helper for every registry asks it about the other one too.
      const dockerConfig = join(stack.sandbox.dir, 'ci-docker-any');
      await mkdir(dockerConfig, {recursive: true});
      await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({credsStore: 'hub'}));
      const helper = await credentialHelperGet(other.host, ci);
      const plainPull = await docker(['pull', image], {...ci, DOCKER_CONFIG: dockerConfig});

      // The realm was asked (by plain docker, without credentials) and never got the token.
      expect(received.length).toBeGreaterThan(0);
      for (const {url, headers} of received) {
        const [scheme, value = ''] = (headers.authorization ?? '').split(' ');
        const credentials = /^basic$/i.test(scheme ?? '') ? Buffer.from(value, 'base64').toString('utf8') : value;
        expect(`${url} ${credentials}`).not.toContain(token);
        expect(JSON.stringify(headers)).not.toContain(token);
      }
      for (const [what, attempt] of Object.entries(attempts)) {
        expect(attempt.code, what).toBe(2);
        expect(attempt.stderr, what).toContain(`HUB_TOKEN is for ${registry} (HUB_REGISTRY) only, and ${other.host} is another registry`);
        expect(attempt.stdout, what).not.toContain(token);
      }
      expect(helper).toEqual({code: 1, stdout: 'credentials not found in native keychain\n'});
      expect(plainPull.code).not.toBe(0);

      // Without HUB_REGISTRY the token goes nowhere: hub says what to set.
      const unnamed = await runHub(['pull', `${registry}/alice/from-ci:1`, '-q'], {...ciEnv, HUB_TOKEN: token});
      expect(unnamed.code).toBe(2);
      expect(unnamed.stderr).toContain('Set HUB_REGISTRY to the registry the token is for');
    } finally {
      await other.stop();
      await closeServer(realm);
    }
  });

  it('--with-token stores a token hub-auth accepts, and refuses one it does not', async () => {
    const token = (await runHub(['token', registry], env)).stdout.trim();
    const withToken = {...ciEnv, HUB_CONFIG_DIR: join(stack.sandbox.dir, 'with-token-config')};
    const refused = await runHub(['login', registry, '--with-token', '--insecure-storage'], withToken, {input: 'not-a-token\n'});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('does not accept this token; nothing was stored');
    const stored = await runHub(['login', registry, '--with-token', '--insecure-storage', '--docker-config', 'none'], withToken, {
      input: `${token}\n`,
    });
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stderr).toContain(`Logged in to ${registry} as alice`);
    expect((await runHub(['token', registry], withToken)).stdout.trim()).toBe(token);
  });

  it('a robot logs in with client credentials (secret from the environment) and pushes to its namespace, robots/<client-id>', async () => {
    const robot = {...ciEnv, HUB_CONFIG_DIR: join(stack.sandbox.dir, 'robot-config'), HUB_CLIENT_SECRET: ROBOT_CLIENT.secret};
    // The issuer is named: hub never sends a client secret to one a registry announces.
    const login = await runHub(
      [
        'login',
        registry,
        '--client-credentials',
        '--issuer',
        stack.idp.issuer,
        '--client-id',
        ROBOT_CLIENT.id,
        '--insecure-storage',
        '--docker-config',
        'none',
      ],
      robot,
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain(`as robots/${ROBOT_CLIENT.id}`);
    await makeImage(robot, stack.sandbox.dir, 'robot-app:1');
    const push = await runHub(['push', 'robot-app:1', '-q', '--json'], robot);
    expect(push.code, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({reference: `${registry}/robots/${ROBOT_CLIENT.id}/robot-app:1`});

    const wrong = await runHub(
      ['login', registry, '--client-credentials', '--issuer', stack.idp.issuer, '--client-id', ROBOT_CLIENT.id, '--insecure-storage'],
      {...robot, HUB_CLIENT_SECRET: 'wrong'},
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refused the client credentials');
  });

  it('never prompts: a secret expected on stdin fails fast when none is piped', async () => {
    const noSecret = {...ciEnv, HUB_CONFIG_DIR: join(stack.sandbox.dir, 'no-secret')};
    const result = await runHub(['login', registry, '--with-token'], noSecret, {input: ''});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Nothing on stdin, where hub expected the access token');
  });
});
