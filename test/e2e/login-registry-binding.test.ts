import {execFile} from 'node:child_process';
import {createServer, type IncomingMessage, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {registryAudience} from '@hub/protocol/registry-audience';
import {withHubOnPath} from '@hub/test-stack/hub-bins';
import {keygen, SERVICE, startHubAuth, TOKEN_ISSUER, type HubAuth} from '@hub/test-stack/hub-auth';
import {runHub} from '@hub/test-stack/hub-cli';
import {answerOnTerminal} from '@hub/test-stack/terminal';
import {closeServer, ROBOT_CLIENT, subjectOf, USERS} from '@hub/test-stack/identity-provider';
import {startLoginStack, type LoginStack} from '@hub/test-stack/login-stack';
import {freePort} from '@hub/test-stack/ports';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {startRegistry, type Registry} from '@hub/test-stack/registry';

const [alice, bob] = USERS as [(typeof USERS)[number], (typeof USERS)[number]];
const HUB = fileURLToPath(new URL('../../bin/run.cjs', import.meta.url));

/**
 * A registry of an attacker's, as hub sees one: a Bearer challenge, a hub-configuration copied
 * from the company's registry, and a token endpoint that keeps every credential sent to it. It
 * listens on 127.0.0.2, another host than the company's registry and its identity provider.
 */
interface EvilRegistry {
  host: string;
  configuration: Record<string, unknown>;
  /** The Basic passwords (access tokens) hub or docker sent to its token endpoint. */
  harvested: string[];
  stop(): Promise<void>;
}

async function startEvilRegistry(configuration: Record<string, unknown>): Promise<EvilRegistry> {
  const harvested: string[] = [];
  const evil = {configuration, harvested} as EvilRegistry;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/v2/') {
      res.writeHead(401, {'www-authenticate': `Bearer realm="http://${evil.host}/token",service="evil"`}).end();
    } else if (path === '/.well-known/hub-configuration') {
      res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(evil.configuration));
    } else if (path === '/token') {
      const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      harvested.push(basic.slice(basic.indexOf(':') + 1));
      // Whatever keeps hub going: a registry token naming the victim.
      const claims = Buffer.from(JSON.stringify({sub: 'alice'})).toString('base64url');
      res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({token: `e30.${claims}.sig`}));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  evil.host = `127.0.0.2:${(server.address() as AddressInfo).port}`;
  evil.stop = () => closeServer(server);
  return evil;
}

/** An "identity provider" that only records what reaches it: a robot's secret must never. */
async function startRecordingIssuer(): Promise<{url: string; requests: string[]; server: Server}> {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.writeHead(200, {'content-type': 'application/json'}).end(
      JSON.stringify({
        issuer: url,
        token_endpoint: `${url}/token`,
        authorization_endpoint: `${url}/auth`,
        jwks_uri: `${url}/jwks`,
        response_types_supported: ['code'],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server};
}

describe.runIf(e2eEnabled([...E2E_PROGRAMS, 'docker-registry', 'script']))(
  'a token hub obtains for a registry is good for that registry only',
  () => {
    let stack: LoginStack;
    let hubAuth: HubAuth;
    let registry: Registry;
    let company: string;
    let evil: EvilRegistry;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      stack = await startLoginStack();
      const signing = await keygen(join(stack.sandbox.dir, 'keys'));
      const registryPort = await freePort();
      company = `127.0.0.1:${registryPort}`;
      // hub-auth names people by another claim than the ID token's preferred_username that hub shows.
      hubAuth = await startHubAuth({
        dir: join(stack.sandbox.dir, 'hub-auth'),
        oidcIssuer: stack.idp.issuer,
        registryHost: company,
        signing,
        oidc: {usernameClaim: 'sub'},
      });
      registry = await startRegistry(
        join(stack.sandbox.dir, 'registry'),
        {realm: `${hubAuth.url}/token`, service: SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: signing.certificate},
        registryPort,
      );
      evil = await startEvilRegistry(
        (await (await fetch(`${hubAuth.url}/.well-known/hub-configuration`)).json()) as Record<string, unknown>,
      );
      ({env} = await withHubOnPath(stack.sandbox.dir, stack.env));
    });

    afterAll(async () => {
      await evil?.stop();
      await registry?.stop();
      await hubAuth?.stop();
      await stack?.stop();
    });

    /** Asks the company's hub-auth for push access to alice's namespace with an access token, as docker would. */
    async function replayAtCompany(accessToken: string): Promise<number> {
      const scope = `repository:${subjectOf('alice')}/app:push,pull`;
      const response = await fetch(`${hubAuth.url}/token?service=${SERVICE}&scope=${encodeURIComponent(scope)}`, {
        headers: {authorization: `Basic ${Buffer.from(`alice:${accessToken}`).toString('base64')}`},
      });
      return response.status;
    }

    function credentialHelperGet(host: string): Promise<{Username?: string; Secret?: string}> {
      return new Promise((resolve, reject) => {
        const child = execFile('docker-credential-hub', ['get'], {env}, (error, stdout) =>
          error ? reject(error) : resolve(JSON.parse(stdout) as {Username?: string; Secret?: string}),
        );
        child.stdin?.end(host);
      });
    }

    async function signInAs(user: typeof alice, args: string[]) {
      const login = runHub(['login', ...args], env);
      await stack.browser.signIn(await stack.browser.nextUrl(), user);
      return login;
    }

    it('names the account as hub-auth does, not as the ID token does, and says who stays logged in when a login adds another account', async () => {
      const first = await signInAs(alice, [company]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain(`Logged in to ${company} as ${subjectOf('alice')}`);
      const status = JSON.parse((await runHub(['status', '--json'], env)).stdout) as Array<{registry: string; account: string}>;
      expect(status).toMatchObject([{registry: company, account: subjectOf('alice')}]);

      const other = await signInAs(bob, [company]);
      expect(other.code, other.stderr).toBe(0);
      expect(other.stderr).toContain(
        `Logged in to ${company} as ${subjectOf('bob')} (${subjectOf('alice')} is still logged in; \`hub switch\` goes back;`,
      );
      const back = await signInAs(alice, [company]);
      expect(back.code, back.stderr).toBe(0);
      expect(await replayAtCompany((await runHub(['token', company], env)).stdout.trim())).toBe(200);
    });

    it('asks before signing in at an issuer off the registry’s domain; without a terminal it refuses and names --yes and --issuer', async () => {
      const refused = await runHub(['login', evil.host], env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        `${evil.host} sends you to sign in at ${stack.idp.issuer}, which is not on the registry's own domain`,
      );
      expect(refused.stderr).toContain('--yes');
      expect(refused.stderr).toContain(`--issuer ${stack.idp.issuer}`);
      await expect(stack.browser.nextUrl(500)).rejects.toThrow('did not open');
      expect(evil.harvested).toEqual([]);

      // An issuer named on the command line is the person's own choice: no question.
      const named = runHub(
        ['login', evil.host, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId, '--timeout', '3', '--docker-config', 'none'],
        {
          ...env,
          HUB_CONFIG_DIR: join(stack.sandbox.dir, 'named-issuer'),
        },
      );
      await stack.browser.nextUrl();
      expect((await named).stderr).toContain('No sign-in arrived within 3s');
    });

    /** `hub login` on a real terminal (a pty from util-linux `script`), answering its question with `answer`. */
    async function loginOnTerminal(args: string[], answer: string, configDir: string): Promise<{code: number | null; output: string}> {
      const {code, bytes} = await answerOnTerminal(
        [process.execPath, HUB, 'login', ...args],
        {...env, HUB_CONFIG_DIR: configDir},
        'Sign in there? [y/N]',
        answer,
      );
      return {code, output: bytes};
    }

    it('on a terminal, asks about the issuer: no ends the login, yes goes on to the browser', async () => {
      const declined = await loginOnTerminal([evil.host, '--docker-config', 'none'], 'n', join(stack.sandbox.dir, 'terminal-no'));
      expect(declined.code, declined.output).toBe(130);
      expect(declined.output).toContain(`you did not confirm ${stack.idp.issuer} for ${evil.host}`);
      await expect(stack.browser.nextUrl(500)).rejects.toThrow('did not open');

      const accepted = loginOnTerminal([evil.host, '--docker-config', 'none'], 'y', join(stack.sandbox.dir, 'terminal-yes'));
      await stack.browser.signIn(await stack.browser.nextUrl(), alice);
      const result = await accepted;
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain(`Logged in to ${evil.host} as alice`);
    });

    it("a registry copying the company's hub-configuration gets only tokens the company's hub-auth refuses", async () => {
      const companyToken = (await runHub(['token', company], env)).stdout.trim();
      expect(await replayAtCompany(companyToken)).toBe(200);

      // The person confirms the issuer (it is their company's), and signs in there as themselves.
      const login = await signInAs(alice, [evil.host, '--yes']);
      expect(login.code, login.stderr).toBe(0);
      const handedOut = (await credentialHelperGet(evil.host)).Secret!;
      expect(handedOut).toBeTruthy();
      expect([handedOut, ...evil.harvested]).not.toContain(companyToken);
      for (const token of new Set([handedOut, ...evil.harvested])) expect(await replayAtCompany(token)).toBe(401);

      // The confirmed issuer is remembered: the next login to that registry does not ask again.
      const again = await signInAs(alice, [evil.host]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).not.toContain('not on the registry');
      expect(await replayAtCompany((await credentialHelperGet(evil.host)).Secret!)).toBe(401);
      // The company's own session is untouched and still works there: docker gets its identity token for the company.
      const forCompany = await credentialHelperGet(company);
      expect(forCompany.Username).toBe('<token>');
      const traded = await fetch(`${hubAuth.url}/token`, {
        method: 'POST',
        body: new URLSearchParams({grant_type: 'refresh_token', service: SERVICE, refresh_token: forCompany.Secret!}),
      });
      expect(traded.status).toBe(200);
    });

    it("ends a login whose token the registry's hub-auth refuses, and keeps the session it had", async () => {
      const before = (await runHub(['token', company], env)).stdout.trim();
      const refused = await signInAs(alice, [company, '--audience', 'https://elsewhere.example']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `The token service of ${company} does not accept the token the identity provider issued; nothing was stored.`,
      );
      expect(refused.stderr).toContain('for the audience https://elsewhere.example');
      expect((await runHub(['token', company], env)).stdout.trim()).toBe(before);
    });

    it("refuses opaque tokens whose introspected audience is another registry's, or none", async () => {
      expect(await replayAtCompany(await stack.idp.issueOpaqueToken('alice', 600, registryAudience(company)))).toBe(200);
      expect(await replayAtCompany(await stack.idp.issueOpaqueToken('alice', 600, registryAudience(evil.host)))).toBe(401);
      expect(await replayAtCompany(await stack.idp.issueOpaqueToken('alice', 600))).toBe(401);
    });

    it('never sends a robot’s client secret to an issuer a registry announces', async () => {
      const recorder = await startRecordingIssuer();
      const copied = evil.configuration;
      evil.configuration = {issuer: recorder.url, client_id: ROBOT_CLIENT.id};
      try {
        const robot = {...env, HUB_CONFIG_DIR: join(stack.sandbox.dir, 'robot'), HUB_CLIENT_SECRET: ROBOT_CLIENT.secret};
        const result = await runHub(
          [
            'login',
            evil.host,
            '--client-credentials',
            '--client-id',
            ROBOT_CLIENT.id,
            '--insecure-storage',
            '--docker-config',
            'none',
            '--yes',
          ],
          robot,
        );
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(
          `hub sends a client secret only to an identity provider you name, not to the one ${evil.host} announces (${recorder.url})`,
        );
        expect(recorder.requests).toEqual([]);
      } finally {
        evil.configuration = copied;
        await closeServer(recorder.server);
      }
    });
  },
);
