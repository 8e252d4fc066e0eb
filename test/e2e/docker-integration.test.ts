import {execFile} from 'node:child_process';
import {createServer} from 'node:http';
import {createServer as createNetServer} from 'node:net';
import {chmod, readFile, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeImage} from '@hub/test-stack/docker-engine';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {runHub, transcript} from '@hub/test-stack/hub-cli';
import {closeServer, USERS} from '@hub/test-stack/identity-provider';
import {listenOnLoopback, onPortsPAndP1} from '@hub/test-stack/ports';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';

const [alice] = USERS as [(typeof USERS)[number]];

/** A config.json as docker writes it (tabs, no final newline), with things hub must not touch. */
const DOCKER_WRITTEN = JSON.stringify(
  {
    auths: {'other.example.com': {auth: 'dXNlcjpwYXNz'}},
    credHelpers: {'gcr.io': 'gcloud'},
    proxies: {default: {httpProxy: 'http://proxy.example:3128', noProxy: '127.0.0.0/8'}},
    psFormat: 'table {{.ID}}\\t{{.Names}}',
    experimental: 'enabled',
  },
  null,
  '\t',
);

describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))(
  'hub login → hub push → plain docker pull, through the credential helper',
  () => {
    let stack: RegistryStack;
    let registry: string;
    let env: NodeJS.ProcessEnv;
    let configFile: string;
    let bin: string;

    beforeAll(async () => {
      stack = await startRegistryStack();
      registry = stack.registry.host;
      // docker finds docker-credential-hub on PATH, as after `npm install -g`.
      ({bin, env} = await withHubOnPath(stack.sandbox.dir, stack.env));
      configFile = join(stack.sandbox.dockerConfig, 'config.json');
      await writeFile(configFile, DOCKER_WRITTEN);
      await chmod(configFile, 0o640);
    });

    afterAll(() => stack?.stop());

    function docker(args: string[], extraEnv: NodeJS.ProcessEnv = {}, input = ''): Promise<{code: number; output: string}> {
      return new Promise((resolve) => {
        const child = execFile('docker', args, {env: {...env, ...extraEnv}}, (error, stdout, stderr) =>
          resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, output: `${stdout}${stderr}`}),
        );
        child.stdin!.end(input);
      });
    }

    function helper(action: string, input: string): Promise<{code: number; stdout: string}> {
      return new Promise((resolve) => {
        const child = execFile(join(bin, 'docker-credential-hub'), [action], {env}, (error, stdout) =>
          resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, stdout}),
        );
        child.stdin!.end(input);
      });
    }

    async function login(user = alice) {
      const run = runHub(['login', registry, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId], env);
      await stack.browser.signIn(await stack.browser.nextUrl(), user);
      return run;
    }

    it('login adds exactly the credHelpers entry, keeping everything else and the permissions', async () => {
      const result = await login();
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`docker uses hub for ${registry}`);
      const config = JSON.parse(await readFile(configFile, 'utf8'));
      expect(config).toEqual({...JSON.parse(DOCKER_WRITTEN), credHelpers: {'gcr.io': 'gcloud', [registry]: 'hub'}});
      expect((await stat(configFile)).mode & 0o777).toBe(0o640);
    });

    it('the helper speaks docker’s protocol', async () => {
      const got = await helper('get', registry);
      expect(got.code).toBe(0);
      const answer = JSON.parse(got.stdout) as {ServerURL: string; Username: string; Secret: string};
      // docker's identity token: hub-auth's refresh token, which the engine trades for registry tokens.
      expect(answer).toMatchObject({ServerURL: registry, Username: '<token>'});
      expect(answer.Secret.split('.')).toHaveLength(3);
      expect(await helper('get', 'unknown.example.com')).toEqual({code: 1, stdout: 'credentials not found in native keychain\n'});
      expect((await helper('get', '')).stdout).toBe('no credentials server URL\n');
      const stored = await helper('store', JSON.stringify({ServerURL: registry, Username: 'x', Secret: 'y'}));
      expect(stored.code).toBe(1);
      expect(stored.stdout).toContain('hub login');
      expect(JSON.parse((await helper('list', '')).stdout)).toEqual({[registry]: 'alice'});
      expect((await helper('version', '')).stdout).toMatch(/^docker-credential-hub \(hub\) \d+\.\d+\.\d+/);
      expect((await helper('erase', registry)).code).toBe(0);
    });

    it('hub push tags a bare name into the user’s namespace and pushes it, with the digest in --json', async () => {
      await makeImage(env, stack.sandbox.dir, 'myapp:1.0', 256 * 1024);
      const pushed = await runHub(['push', 'myapp:1.0', '--json'], env);
      expect(pushed.code, pushed.stderr + pushed.stdout).toBe(0);
      const result = JSON.parse(pushed.stdout) as {reference: string; digest: string; size: number};
      expect(result.reference).toBe(`${registry}/alice/myapp:1.0`);
      expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(result.size).toBeGreaterThan(0);

      const plain = await runHub(['push', 'myapp:1.0'], env);
      expect(plain.code).toBe(0);
      expect(plain.stderr).toMatch(/: (Layer already exists|Pushed)\n/);
      expect(plain.stderr).toContain(`✓ Pushed ${registry}/alice/myapp:1.0 (sha256:`);
    });

    it('plain docker pull works through docker-credential-hub, and hub pull too', async () => {
      expect((await docker(['rmi', `${registry}/alice/myapp:1.0`])).code).toBe(0);
      const pulled = await docker(['pull', `${registry}/alice/myapp:1.0`]);
      expect(pulled.code, pulled.output).toBe(0);
      expect((await docker(['rmi', `${registry}/alice/myapp:1.0`])).code).toBe(0);
      const hubPull = await runHub(['pull', 'myapp:1.0'], env);
      expect(hubPull.code, hubPull.stderr).toBe(0);
      expect(hubPull.stderr).toContain(`✓ Pulled ${registry}/alice/myapp:1.0`);
      const inspect = await docker(['image', 'inspect', `${registry}/alice/myapp:1.0`]);
      expect(inspect.code).toBe(0);
    });

    it('hub images lists what the user may pull, and a repository’s tags', async () => {
      const listed = await runHub(['images', '--json'], env);
      expect(listed.code, listed.stderr + listed.stdout).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual({registry, repositories: [{name: 'alice/myapp'}]});
      const tags = await runHub(['images', 'myapp'], env);
      expect(tags.stdout).toBe(`${registry}/alice/myapp:1.0\n`);
    });

    it('hub images lists a repository pushed a moment ago into the user’s namespace, though a listing just read the catalog', async () => {
      await makeImage(env, stack.sandbox.dir, 'fresh:1');
      expect((await runHub(['push', 'fresh:1', '-q'], env)).code).toBe(0);
      const listed = await runHub(['images'], env);
      expect(listed.stdout).toBe(`${registry}/alice/fresh\n${registry}/alice/myapp\n`);
    });

    it('hub images for a repository that is not there (or not yours) says so, without a raw HTTP status', async () => {
      for (const name of ['nothere', 'bob/private']) {
        const result = await runHub(['images', name], env);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain(
          `No repository ${name.includes('/') ? name : `alice/${name}`} on ${registry} (or you may not pull it).`,
        );
        expect(result.stderr).not.toMatch(/HTTP \d{3}/);
      }
    });

    it('with no D-Bus session, docker pull shows why docker-credential-hub has no credentials, not only "access denied"', async () => {
      await docker(['rmi', `${registry}/alice/myapp:1.0`]);
      const pulled = await docker(['pull', `${registry}/alice/myapp:1.0`], {
        DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(stack.sandbox.dir, 'no-bus')}`,
      });
      expect(pulled.code).not.toBe(0);
      expect(pulled.output).toContain('docker-credential-hub: The Secret Service keychain cannot be used: there is no D-Bus session bus');
      expect(pulled.output).toContain('Start and unlock a Secret Service provider');
    });

    it('docker login is refused with a pointer to hub login, in a message without nested backticks', async () => {
      const token = (await runHub(['token', registry], env)).stdout.trim();
      const refused = await docker(['login', registry, '--username', 'alice', '--password-stdin'], {}, token);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(
        `hub keeps the credentials for ${registry} itself: sign in with "hub login ${registry}" instead of "docker login".`,
      );
      expect(refused.output).not.toMatch(/`[^`\n]*`[^`\n]*`[^`\n]*`/);
      expect(refused.output).not.toContain(token);
    });

    it('docker login with a typed password is told to use hub login, by hub-auth through the engine', async () => {
      const refused = await docker(['login', registry, '--username', 'alice', '--password-stdin'], {}, 'secret');
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(`docker login with a password is not how ${registry} signs you in: run "hub login ${registry}"`);
      expect(refused.output).not.toContain('not an access token');
    });

    it('names the engine it tried when none answers', async () => {
      const socket = join(stack.sandbox.dir, 'no-engine.sock');
      const result = await runHub(['push', 'myapp:1.0'], {...env, DOCKER_HOST: `unix://${socket}`});
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Cannot reach the Docker engine at unix://${socket} (from DOCKER_HOST)`);
    });

    it('says an engine that accepts and never answers did not answer within 10 s', async () => {
      const socket = join(stack.sandbox.dir, 'hung-engine.sock');
      const hung = createNetServer(() => undefined);
      await new Promise<void>((resolve) => hung.listen(socket, resolve));
      try {
        const result = await runHub(['push', 'myapp:1.0'], {...env, DOCKER_HOST: `unix://${socket}`});
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(
          `Cannot reach the Docker engine at unix://${socket} (from DOCKER_HOST): it did not answer within 10 s.`,
        );
        expect(result.stderr).not.toContain('ABORT_ERR');
      } finally {
        hung.close();
      }
    });

    it('a push to another user’s namespace fails with a message that says where one may push', async () => {
      await makeImage(env, stack.sandbox.dir, `${registry}/bob/stolen:1`);
      const result = await runHub(['push', `${registry}/bob/stolen:1`], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`The registry refused to let you push ${registry}/bob/stolen:1`);
      expect(result.stderr).toContain(`you may push to ${registry}/alice/`);
    });

    it('a push of dev/teamapp by a member of dev is refused naming groups/dev/teamapp, and the tag hub made is gone', async () => {
      await makeImage(env, stack.sandbox.dir, 'dev/teamapp:1');
      const result = await runHub(['push', 'dev/teamapp:1'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`The registry refused to let you push ${registry}/dev/teamapp:1`);
      expect(result.stderr).toContain(`Did you mean ${registry}/groups/dev/teamapp?`);
      expect(result.stderr).toContain(`As alice you may push to ${registry}/alice/… and ${registry}/groups/dev/…`);
      expect(result.stderr).not.toContain('docker login');
      expect((await docker(['image', 'inspect', `${registry}/dev/teamapp:1`])).code).not.toBe(0);
      expect((await docker(['image', 'inspect', 'dev/teamapp:1'])).code).toBe(0);
    });

    it('a refused pull says what the account may pull, without docker’s advice to docker login', async () => {
      const result = await runHub(['pull', `${registry}/bob/stolen:1`], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`The registry refused to let you pull ${registry}/bob/stolen:1`);
      expect(result.stderr).toContain(
        `As alice you may pull ${registry}/public/…, ${registry}/library/…, ${registry}/alice/… and ${registry}/groups/dev/…`,
      );
      expect(result.stderr).not.toContain('docker login');
    });

    it('refreshes an access token that expired between two pushes, without the user noticing', async () => {
      stack.idp.behave({accessTokenTtl: 30}); // inside hub's one-minute margin: every use refreshes
      try {
        expect((await login()).code).toBe(0);
        const before = stack.idp.grants.refresh_token ?? 0;
        await makeImage(env, stack.sandbox.dir, 'second:1');
        expect((await runHub(['push', 'second:1', '-q'], env)).code).toBe(0);
        expect((await docker(['push', `${registry}/alice/second:1`])).code).toBe(0);
        expect(stack.idp.grants.refresh_token).toBeGreaterThanOrEqual(before + 2);
      } finally {
        stack.idp.behave({accessTokenTtl: 600});
      }
    });

    it('ten concurrent helper calls at expiry cause exactly one refresh, and all get a valid token', async () => {
      stack.idp.behave({accessTokenTtl: 30});
      expect((await login()).code).toBe(0);
      stack.idp.behave({accessTokenTtl: 600}); // the refreshed token is good for long: nobody needs a second refresh
      const before = stack.idp.grants.refresh_token ?? 0;
      const answers = await Promise.all(Array.from({length: 10}, () => helper('get', registry)));
      expect(answers.map((a) => a.code)).toEqual(Array(10).fill(0));
      const secrets = new Set(answers.map((a) => (JSON.parse(a.stdout) as {Secret: string}).Secret));
      expect(secrets.size).toBe(1);
      expect(stack.idp.grants.refresh_token).toBe(before + 1);
      const [secret] = [...secrets];
      const check = await fetch(`${stack.hubAuth.url}/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          service: 'hub-registry',
          scope: 'repository:alice/myapp:pull',
          refresh_token: secret!,
        }),
      });
      expect(check.status).toBe(200);
    });

    it('logout removes exactly its entry, leaving config.json as docker wrote it; docker pull is then refused', async () => {
      const out = await runHub(['logout', registry], env);
      expect(out.code).toBe(0);
      expect(out.stderr).toContain('the provider revoked the session');
      expect(await readFile(configFile, 'utf8')).toBe(DOCKER_WRITTEN);
      expect((await stat(configFile)).mode & 0o777).toBe(0o640);
      await docker(['rmi', `${registry}/alice/myapp:1.0`]);
      const refused = await docker(['pull', `${registry}/alice/myapp:1.0`]);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toMatch(/denied|unauthorized/i);
    });

    it('a corrupt config.json is left as it was, with a clear error, and the login is kept', async () => {
      await writeFile(configFile, '{"auths": {');
      const result = await login();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('You are logged in, but docker was not set up');
      expect(result.stderr).toContain(configFile);
      expect(await readFile(configFile, 'utf8')).toBe('{"auths": {');
      expect((await runHub(['status'], env)).code).toBe(0);
      await writeFile(configFile, DOCKER_WRITTEN);
      expect((await runHub(['logout', registry], env)).code).toBe(0);
    });

    /**
     * A registry with its own realm, which grants whatever is asked (the registry is the attacker).
     * `catalogLink` is the `Link` its first catalog page sends; without `listing` it has no hub-auth
     * listing of pullable repositories, so `hub images` reads the catalog.
     */
    async function startHostileRegistry(options: {text: string; listing: boolean; catalogLink?: string; port?: number}) {
      const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
        const json = (status: number, body: unknown) =>
          res.writeHead(status, {'content-type': 'application/json'}).end(JSON.stringify(body));
        if (url.pathname === '/token') {
          const access = url.searchParams
            .getAll('scope')
            .flatMap((scope) => scope.split(' '))
            .map((scope) => {
              const [type, name, actions] = [
                scope.slice(0, scope.indexOf(':')),
                scope.slice(scope.indexOf(':') + 1, scope.lastIndexOf(':')),
                scope.slice(scope.lastIndexOf(':') + 1),
              ];
              return {type, name, actions: actions.split(',')};
            });
          return json(200, {token: `${base64url({alg: 'none'})}.${base64url({access})}.x`});
        }
        // What hub images asks first: the token service's listing next to the realm.
        if (url.pathname === '/repositories')
          return options.listing ? json(200, {repositories: [`evil/app${options.text}`]}) : json(404, {});
        if (!req.headers.authorization?.startsWith('Bearer ')) {
          res.setHeader('www-authenticate', `Bearer realm="http://${req.headers.host}/token",service="hostile"`);
          return json(401, {errors: [{code: 'UNAUTHORIZED', message: 'authentication required'}]});
        }
        if (url.pathname === '/v2/') return json(200, {});
        if (url.pathname === '/v2/_catalog') {
          if (options.catalogLink && !url.searchParams.has('last')) res.setHeader('link', `<${options.catalogLink}>; rel="next"`);
          return json(200, {repositories: [`evil/app${options.text}`]});
        }
        return json(404, {errors: [{code: 'MANIFEST_UNKNOWN', message: `manifest unknown${options.text}`}]});
      });
      const host = `127.0.0.1:${await listenOnLoopback(server, options.port)}`;
      return {host, env: {...env, HUB_TOKEN: 'not-a-real-token', HUB_REGISTRY: host}, close: () => closeServer(server)};
    }

    /** Where a hostile catalog Link points: it records every request, with its Authorization header. */
    async function startRecorder(port = 0) {
      const requests: Array<{url?: string; authorization?: string}> = [];
      const server = createServer((req, res) => {
        requests.push({url: req.url, authorization: req.headers.authorization});
        res.writeHead(200, {'content-type': 'application/json'}).end('{"repositories":["stolen/token"]}');
      });
      return {origin: `http://127.0.0.1:${await listenOnLoopback(server, port)}`, requests, close: () => closeServer(server)};
    }

    it("prints a hostile registry's words, through the engine and the catalog, without their control characters", async () => {
      const hostileText = '\x1b]0;owned\x07\x1b[2K\x1b[1Aall-good\x9b2J\u202e';
      const hostile = await startHostileRegistry({text: hostileText, listing: true});
      try {
        const pulled = await runHub(['pull', `${hostile.host}/evil/app:1`], hostile.env);
        const listed = await runHub(['images'], hostile.env);
        expect(pulled.code).toBe(1);
        expect(pulled.stderr).toContain('manifest unknown');
        expect(listed.code, listed.stderr).toBe(0);
        expect(listed.stdout).toContain(`${hostile.host}/evil/appall-good`);
        for (const {stdout, stderr} of [pulled, listed])
          expect(`${stdout}${stderr}`).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
      } finally {
        await hostile.close();
      }
    });

    it('hub images follows no catalog Link off the registry: the registry token never reaches the other origin', async () => {
      const elsewhere = await startRecorder();
      const hostile = await startHostileRegistry({text: '', listing: false, catalogLink: `${elsewhere.origin}/v2/_catalog?last=x`});
      try {
        const listed = await runHub(['images'], hostile.env);
        expect(listed.code).toBe(1);
        expect(listed.stderr).toContain(`${hostile.host} is not behaving as a registry`);
        expect(listed.stderr).toContain('sent your token nowhere else');
        expect(elsewhere.requests).toEqual([]);
      } finally {
        await Promise.all([hostile.close(), elsewhere.close()]);
      }
    });

    it('hub images does not glue a catalog Link onto the registry address (registry on port P, Link "1/v2/…" → port P1)', async () => {
      // The string-concatenation attack: `http://127.0.0.1:P` + `1/v2/_catalog` is port P1, another server.
      const {atP: hostile, atP1: elsewhere} = await onPortsPAndP1(startRecorder, (port) =>
        startHostileRegistry({text: '', listing: false, catalogLink: '1/v2/_catalog?last=x', port}),
      );
      try {
        const listed = await runHub(['images'], hostile.env);
        expect(elsewhere.requests).toEqual([]);
        // Resolved as a URL, the link is a path on the registry itself, one this registry does not serve.
        expect(listed.code).toBe(1);
        expect(listed.stderr).toContain(`${hostile.host} answered HTTP 404 for /v2/1/v2/_catalog?last=x`);
      } finally {
        await Promise.all([hostile.close(), elsewhere.close()]);
      }
    });

    it('never printed a token', async () => {
      const tokens = transcript.flatMap((r) => r.stderr.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? []);
      expect(tokens).toEqual([]);
    });
  },
);
