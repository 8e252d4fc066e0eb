import {X509Certificate} from 'node:crypto';
import {lstat, mkdir, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet} from 'jose';
import {Client} from 'undici';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
  keygen,
  SERVICE,
  spawnHubAuth,
  startHubAuth,
  writeHubAuthConfig,
  type HubAuth,
  type HubAuthOptions,
  type SigningFiles,
  hubAuthLogLines,
} from '@hub/test-stack/hub-auth';
import {CLI_CLIENT_ID, startIdentityProvider, subjectOf, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {registryAudience} from '@hub/protocol/registry-audience';
import {freePort, waitFor} from '@hub/test-stack/ports';
import {e2eEnabled} from '@hub/test-stack/prerequisites';
import {waitForOutput} from '@hub/test-stack/process';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

/** Running hub-auth as an operator does: signals, reload, start with the provider down, metrics. */
describe.runIf(e2eEnabled([]))('hub-auth operations', () => {
  let sandbox: Sandbox;
  let idp: IdentityProvider;
  let keysA: SigningFiles;
  let keysB: SigningFiles;

  beforeAll(async () => {
    sandbox = await createSandbox('hub-auth-operations');
    idp = await startIdentityProvider();
    keysA = await keygen(join(sandbox.dir, 'keys-a'));
    keysB = await keygen(join(sandbox.dir, 'keys-b'));
  });

  afterAll(async () => {
    await idp?.stop();
    await sandbox?.remove();
  });

  const optionsFor = (name: string, signing: SigningFiles): HubAuthOptions => ({
    dir: join(sandbox.dir, name),
    oidcIssuer: idp.issuer,
    registryHost: '127.0.0.1:5000',
    signing,
  });

  /** An anonymous pull token for a public repository: no provider call, as a docker pull of a public image. */
  const tokenPath = (repository = 'public/app') => `/token?service=${SERVICE}&scope=repository:${repository}:pull`;

  async function anonymousToken(hubAuth: HubAuth, repository: string): Promise<string> {
    const response = await fetch(`${hubAuth.url}${tokenPath(repository)}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as {token: string}).token;
  }

  const exited = (hubAuth: HubAuth) =>
    new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
      const {child} = hubAuth.daemon;
      if (child.exitCode !== null || child.signalCode !== null) resolve({code: child.exitCode, signal: child.signalCode});
      else child.once('exit', (code, signal) => resolve({code, signal}));
    });

  it('SIGTERM under 40 busy clients: every request it accepted is answered in full, then it exits 0 and says so', async () => {
    const hubAuth = await startHubAuth(optionsFor('drain', keysA));
    try {
      const clients = Array.from({length: 40}, () => new Client(hubAuth.url, {pipelining: 1}));
      let answered = 0;
      let answeredAfterSignal = 0;
      let signalled = false;
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      let refused = 0;
      const loop = async (client: Client) => {
        // Bounded: it ends at the first refused connection (the listener is closed) or after this many.
        for (let i = 0; i < 2000; i++) {
          try {
            const {statusCode, body} = await client.request({path: tokenPath(), method: 'GET'});
            const text = await body.text();
            statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
            if (statusCode === 200) expect((JSON.parse(text) as {token?: string}).token).toBeTruthy();
            answered += 1;
            if (signalled) answeredAfterSignal += 1;
            if (!signalled && answered >= 400) {
              signalled = true;
              hubAuth.daemon.child.kill('SIGTERM');
            }
          } catch (error) {
            const code = (error as {code?: string}).code ?? '';
            // A new connection after the listener closed: never accepted, the client can go elsewhere.
            // After the signal every answer closes its connection, so each request opens a new one;
            // one still queued in the kernel when the listener closes is reset by the kernel, not
            // by hub-auth, which never saw it: the same for the client as a refused one.
            if (code === 'ECONNREFUSED' || (signalled && code === 'ECONNRESET')) refused += 1;
            else failures.push(`${code} ${(error as Error).message}`);
            return;
          }
        }
      };
      await Promise.all(clients.map(loop));
      await Promise.all(clients.map((client) => client.close().catch(() => {})));
      expect(await exited(hubAuth)).toEqual({code: 0, signal: null});
      expect(signalled).toBe(true);
      expect(failures).toEqual([]);
      // Requests that came during the drain were answered, not refused with 503.
      expect([...statuses.keys()]).toEqual([200]);
      expect(answeredAfterSignal).toBeGreaterThan(0);
      expect(refused).toBe(clients.length);
      expect(hubAuthLogLines(hubAuth, 'draining')).toEqual([expect.objectContaining({event: 'shutdown', signal: 'SIGTERM'})]);
      expect(hubAuthLogLines(hubAuth, 'drained: hub-auth exits')).toEqual([
        expect.objectContaining({event: 'shutdown', signal: 'SIGTERM', cut: false}),
      ]);
    } finally {
      await hubAuth.stop();
    }
  });

  it('SIGINT drains and exits 0 as well', async () => {
    const hubAuth = await startHubAuth(optionsFor('interrupt', keysA));
    try {
      await anonymousToken(hubAuth, 'public/app');
      hubAuth.daemon.child.kill('SIGINT');
      expect(await exited(hubAuth)).toEqual({code: 0, signal: null});
      expect(hubAuthLogLines(hubAuth, 'drained: hub-auth exits')).toEqual([expect.objectContaining({signal: 'SIGINT'})]);
    } finally {
      await hubAuth.stop();
    }
  });

  describe('SIGHUP: the configuration and keys reloaded without a restart', () => {
    let hubAuth: HubAuth;
    let options: HubAuthOptions;
    let reloads = 0;

    beforeAll(async () => {
      options = optionsFor('reload', keysA);
      hubAuth = await startHubAuth(options);
    });

    afterAll(() => hubAuth?.stop());

    const kidOf = async (certificate: string) => {
      // The kid hub-auth publishes for a certificate: its JWKS entry, matched by the public key.
      const jwk = new X509Certificate(await readFile(certificate, 'utf8')).publicKey.export({format: 'jwk'});
      const jwks = (await (await fetch(`${hubAuth.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      return jwks.keys.find((key) => key.x === jwk.x && key.y === jwk.y)?.kid;
    };
    const publishedKids = async () =>
      ((await (await fetch(`${hubAuth.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet).keys.map((key) => key.kid);

    /** A fresh token (a repository not asked for before: no reused token), checked against the published keys. */
    async function signingKid(repository: string): Promise<string | undefined> {
      const token = await anonymousToken(hubAuth, repository);
      const jwks = (await (await fetch(`${hubAuth.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      await jwtVerify(token, createLocalJWKSet(jwks), {issuer: 'hub-auth', audience: SERVICE});
      return decodeProtectedHeader(token).kid;
    }

    async function rewrite(signing: SigningFiles, publish: string[], changes: Partial<HubAuthOptions> = {}): Promise<void> {
      const extra = {signing: {publish: publish.map((file) => ({file}))}, ...changes.extra};
      await writeHubAuthConfig({...options, ...changes, signing, extra}, hubAuth.port, hubAuth.monitoringPort);
    }

    /** SIGHUP, then the reload's outcome line (each reload logs exactly one). */
    async function hangup(): Promise<Record<string, unknown>> {
      reloads += 1;
      hubAuth.daemon.child.kill('SIGHUP');
      const outcome = () => [...hubAuthLogLines(hubAuth, 'reloaded the configuration'), ...hubAuthLogLines(hubAuth, 'reload refused')];
      await waitFor('the reload log line', async () => outcome().length === reloads);
      return outcome()
        .sort((a, b) => Number(a.time) - Number(b.time))
        .at(-1)!;
    }

    const expiryMetrics = async () => {
      const text = await (await fetch(`${hubAuth.monitoringUrl}/metrics`)).text();
      return [...text.matchAll(/^hub_auth_signing_certificate_expiry_seconds\{kid="([^"]+)",role="(\w+)"\} (\d+)$/gm)].map(
        ([, kid, role, value]) => ({kid, role, value: Number(value)}),
      );
    };
    const issuedCount = async () => {
      const text = await (await fetch(`${hubAuth.monitoringUrl}/metrics`)).text();
      return Number(/^hub_auth_token_requests_total\{grant="anonymous",outcome="issued"\} (\d+)$/m.exec(text)?.[1]);
    };
    const notAfter = async (certificate: string) =>
      Math.floor(new Date(new X509Certificate(await readFile(certificate, 'utf8')).validTo).getTime() / 1000);

    it('publishes the new key, then signs with it, while requests go on; the policy and lifetime apply at once; the old key stays published', async () => {
      const kidA = await kidOf(keysA.certificate);
      expect(await signingKid('public/before')).toBe(kidA);

      // Step 1: publish B beside A; the token lifetime and the policy change too, and apply at
      // once; the listener's request timeout is set on its socket: named as waiting for a restart.
      expect(decodeJwt(await anonymousToken(hubAuth, 'shared/app')).access).toEqual([]);
      await rewrite(keysA, [keysB.certificate], {
        publicRepositories: ['public/*', 'shared/*'],
        extra: {tokenLifetimeSeconds: 600, listen: {requestTimeoutSeconds: 5}},
      });
      const issuedBefore = await issuedCount();
      expect(await hangup()).toMatchObject({event: 'reload', signingKid: kidA});
      const kidB = await kidOf(keysB.certificate);
      expect(kidB).toBeTruthy();
      expect(await publishedKids()).toEqual([kidA, kidB]);
      expect(await signingKid('public/published')).toBe(kidA);
      const token = decodeJwt(await anonymousToken(hubAuth, 'shared/app'));
      expect(token.exp! - token.iat!).toBe(600);
      expect(token.access).toEqual([{type: 'repository', name: 'shared/app', actions: ['pull']}]);
      // The counts go on across the reload.
      expect(await issuedCount()).toBeGreaterThan(issuedBefore);
      expect(hubAuthLogLines(hubAuth, 'take effect only after a restart').at(-1)).toMatchObject({
        settings: ['listen.requestTimeoutSeconds'],
      });

      // Step 2: sign with B, keep A published for the tokens it signed; clients keep asking meanwhile.
      await rewrite(keysB, [keysA.certificate]);
      const clients = Array.from({length: 8}, () => new Client(hubAuth.url, {pipelining: 1}));
      let reloaded = false;
      const statuses: number[] = [];
      const failures: string[] = [];
      const busy = Promise.all(
        clients.map(async (client) => {
          // Until the reload is done, and a few answers past it (bounded either way).
          for (let i = 0, after = 0; i < 5000 && after < 20; i++, after += reloaded ? 1 : 0) {
            try {
              const {statusCode, body} = await client.request({path: tokenPath(), method: 'GET'});
              await body.text();
              statuses.push(statusCode);
            } catch (error) {
              failures.push(`${(error as {code?: string}).code} ${(error as Error).message}`);
              return;
            }
          }
        }),
      );
      const outcome = await hangup();
      reloaded = true;
      await busy;
      await Promise.all(clients.map((client) => client.close()));
      expect(outcome).toMatchObject({event: 'reload', signingKid: kidB, publishedKids: [kidB, kidA]});
      expect(failures).toEqual([]);
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(await publishedKids()).toEqual([kidB, kidA]);
      expect(await signingKid('public/after')).toBe(kidB);

      // Monitoring shows when each certificate expires, by kid and role.
      expect(await expiryMetrics()).toEqual([
        {kid: kidB, role: 'signing', value: await notAfter(keysB.certificate)},
        {kid: kidA, role: 'published', value: await notAfter(keysA.certificate)},
      ]);
    });

    it('refuses a configuration that is not valid, logs why and keeps running with the keys in force', async () => {
      const kidB = await kidOf(keysB.certificate);
      await writeFile(hubAuth.configFile, `${await readFile(hubAuth.configFile, 'utf8')}tokenLifetimeSeconds: 5\n`);
      const outcome = await hangup();
      expect(outcome).toMatchObject({event: 'reload', level: 50});
      expect(String(outcome.reason)).toContain('tokenLifetimeSeconds');
      expect(hubAuth.daemon.child.exitCode).toBeNull();
      expect((await fetch(`${hubAuth.monitoringUrl}/healthz`)).status).toBe(200);
      expect(await signingKid('public/invalid-config')).toBe(kidB);
    });

    it('refuses a signing key that does not match its certificate, and keys it cannot read', async () => {
      const kidB = await kidOf(keysB.certificate);
      await rewrite({key: keysA.key, certificate: keysB.certificate}, [keysA.certificate]);
      expect(String((await hangup()).reason)).toContain('different key');
      await rewrite({key: join(sandbox.dir, 'missing.key'), certificate: keysB.certificate}, []);
      expect(String((await hangup()).reason)).toContain('signing.key: cannot read');
      expect(await publishedKids()).toEqual([kidB, await kidOf(keysA.certificate)]);
      expect(await signingKid('public/mismatch')).toBe(kidB);
    });

    it('after reloads, SIGTERM still drains and exits 0', async () => {
      await anonymousToken(hubAuth, 'public/last');
      hubAuth.daemon.child.kill('SIGTERM');
      expect(await exited(hubAuth)).toEqual({code: 0, signal: null});
      expect(hubAuthLogLines(hubAuth, 'drained: hub-auth exits')).toEqual([expect.objectContaining({signal: 'SIGTERM', cut: false})]);
    });
  });

  describe('state: never written through a symbolic link unless the operator says so', () => {
    /** A token of the provider's for a user whose name is not bound yet: the request binds it. */
    async function firstLogin(hubAuth: HubAuth, username: string, subject = subjectOf(username)): Promise<number> {
      const now = Math.floor(Date.now() / 1000);
      const token = await idp.signWithProviderKey({
        iss: idp.issuer,
        aud: registryAudience('127.0.0.1:5000'),
        sub: subject,
        preferred_username: username,
        client_id: CLI_CLIENT_ID,
        iat: now,
        exp: now + 300,
      });
      const response = await fetch(`${hubAuth.url}${tokenPath(`${username}/app`)}`, {
        headers: {authorization: `Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`},
      });
      return response.status;
    }

    it('refuses to start on a data directory that is a link, to a directory or to nothing, and creates nothing there', async () => {
      const options = optionsFor('symlinked-state', keysA);
      await mkdir(options.dir, {recursive: true});
      const dataDir = join(options.dir, 'store');
      const victim = join(sandbox.dir, 'victim-dir');
      const nowhere = join(sandbox.dir, 'nowhere');
      await mkdir(victim);
      await writeFile(join(victim, 'the operator’s own file'), 'untouched\n');
      const configFile = await writeHubAuthConfig(options, await freePort(), await freePort());
      for (const target of [victim, nowhere]) {
        await rm(dataDir, {force: true});
        await symlink(target, dataDir);
        const daemon = spawnHubAuth(configFile, join(options.dir, 'hub-auth.log'));
        const code = await new Promise((resolve) => daemon.child.once('exit', resolve));
        expect(code).toBe(2);
        expect(daemon.output()).toContain(
          `store.dataDir: ${dataDir} is a symbolic link (to ${target}): hub-auth does not write its state through one`,
        );
        expect(daemon.output()).toContain('store.followSymlink: true');
      }
      expect(await readdir(victim)).toEqual(['the operator’s own file']);
      await expect(lstat(nowhere)).rejects.toMatchObject({code: 'ENOENT'});
      expect((await lstat(dataDir)).isSymbolicLink()).toBe(true);
    });

    it('one instance per data directory: a second is refused, naming both, while the first runs or is stopped (SIGSTOP); after a SIGKILL the next starts with the state intact', async () => {
      const options = optionsFor('one-instance', keysA);
      const dataDir = join(options.dir, 'store');
      const first = await startHubAuth(options);
      const refused = async () => {
        const daemon = spawnHubAuth(await writeHubAuthConfig(options, await freePort(), await freePort()), join(options.dir, 'second.log'));
        expect(await new Promise((resolve) => daemon.child.once('exit', resolve))).toBe(2);
        expect(daemon.output()).toContain(
          `store.dataDir: cannot open the store in ${dataDir}: ${dataDir} is in use by another hub-auth, process ${first.daemon.child.pid} on`,
        );
        expect(daemon.output()).toContain('run several instances on a PostgreSQL server (store.url)');
      };
      try {
        expect(await firstLogin(first, 'hana')).toBe(200);
        await refused();
        first.daemon.child.kill('SIGSTOP');
        // Longer than every timeout hub-auth has, and than proper-lockfile's 4 s stale.
        await new Promise((resolve) => setTimeout(resolve, 8000));
        await refused();
        first.daemon.child.kill('SIGCONT');
        expect(await firstLogin(first, 'hana')).toBe(200);
        first.daemon.child.kill('SIGKILL');
        await exited(first);
        const next = await startHubAuth(options);
        try {
          expect(await firstLogin(next, 'hana', 'someone-else')).toBe(403);
          expect(await firstLogin(next, 'hana')).toBe(200);
        } finally {
          await next.stop();
        }
      } finally {
        first.daemon.child.kill('SIGCONT');
        await first.stop();
      }
    }, 120_000);

    it('with store.followSymlink, says at start where the link leads and keeps its state there', async () => {
      const options = {...optionsFor('symlink-followed', keysA), store: {dataDir: join(sandbox.dir, 'link-to-store'), followSymlink: true}};
      const target = join(sandbox.dir, 'store-elsewhere');
      await mkdir(target);
      await symlink(target, join(sandbox.dir, 'link-to-store'));
      const hubAuth = await startHubAuth(options);
      try {
        await waitFor('the line about the link', async () => hubAuthLogLines(hubAuth, 'store.dataDir is a symbolic link').length > 0);
        expect(hubAuthLogLines(hubAuth, 'store.dataDir is a symbolic link')).toEqual([
          expect.objectContaining({target, msg: expect.stringContaining('as store.followSymlink says')}),
        ]);
        expect(await firstLogin(hubAuth, 'erin')).toBe(200);
        expect(await readdir(target)).toContain('PG_VERSION');
      } finally {
        await hubAuth.stop();
      }
    });

    it('imports a bindings file of an earlier version once, through a link too (only read), and leaves it as it was', async () => {
      const options = optionsFor('bindings-import', keysA);
      await mkdir(options.dir, {recursive: true});
      const file = join(sandbox.dir, 'old-bindings.json');
      const old = `${JSON.stringify({accounts: {frank: {issuer: idp.issuer, subject: 'someone-else', since: '2026-01-01T00:00:00.000Z'}}})}\n`;
      await writeFile(file, old);
      await symlink(file, join(options.dir, 'account-bindings.json'));
      const hubAuth = await startHubAuth(options);
      try {
        await waitFor('the import', async () => hubAuthLogLines(hubAuth, 'imported the bindings file').length > 0);
        expect(hubAuthLogLines(hubAuth, 'imported the bindings file')).toEqual([expect.objectContaining({file, entries: 1})]);
        // frank's name stays with the holder the file gave it to.
        expect(await firstLogin(hubAuth, 'frank')).toBe(403);
        expect(await firstLogin(hubAuth, 'gail')).toBe(200);
        expect(await readFile(file, 'utf8')).toBe(old);
      } finally {
        await hubAuth.stop();
      }
    });
  });

  it('metrics: hub_auth_build_info with the version, and the signing certificate expiry', async () => {
    const hubAuth = await startHubAuth(optionsFor('metrics', keysA));
    try {
      const text = await (await fetch(`${hubAuth.monitoringUrl}/metrics`)).text();
      const {version} = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string};
      expect(text).toContain(`hub_auth_build_info{version="${version}"} 1`);
      const certificate = new X509Certificate(await readFile(keysA.certificate, 'utf8'));
      const kid = decodeProtectedHeader(await anonymousToken(hubAuth, 'public/metrics')).kid;
      expect(text).toContain(
        `hub_auth_signing_certificate_expiry_seconds{kid="${kid}",role="signing"} ${Math.floor(new Date(certificate.validTo).getTime() / 1000)}`,
      );
    } finally {
      await hubAuth.stop();
    }
  });

  it('started while the identity provider is down: logs the URL that failed, keeps trying, logs when it is back', async () => {
    idp.behave({down: true});
    let hubAuth: HubAuth | undefined;
    try {
      hubAuth = await startHubAuth({...optionsFor('provider-down', keysA), untilAlive: true});
      const discovery = `${idp.issuer}/.well-known/openid-configuration`;
      await waitForOutput(hubAuth.daemon, 'cannot reach the identity provider');
      const [warning] = hubAuthLogLines(hubAuth, 'cannot reach the identity provider');
      expect(warning).toMatchObject({event: 'provider', level: 40, failures: 1});
      expect(String(warning!.reason)).toContain(discovery);
      expect((await fetch(`${hubAuth.monitoringUrl}/readyz`)).status).toBe(503);
      idp.behave({down: false});
      await waitFor('the recovery log line', async () => hubAuthLogLines(hubAuth!, 'identity provider reachable').length === 1, 40_000);
      expect((await fetch(`${hubAuth.monitoringUrl}/readyz`)).status).toBe(200);
    } finally {
      idp.behave({down: false});
      await hubAuth?.stop();
    }
  });

  it('started while the provider’s JWKS cannot be fetched (discovery works): logs that URL, not ready', async () => {
    const jwksUri = `http://127.0.0.1:${await freePort()}/jwks`; // nothing listens there
    const hubAuth = await startHubAuth({...optionsFor('jwks-down', keysA), extra: {oidc: {jwksUri}}, untilAlive: true});
    try {
      await waitForOutput(hubAuth.daemon, 'cannot reach the identity provider');
      const [warning] = hubAuthLogLines(hubAuth, 'cannot reach the identity provider');
      expect(String(warning!.reason)).toContain(`cannot load ${jwksUri}`);
      const readiness = await fetch(`${hubAuth.monitoringUrl}/readyz`);
      expect(readiness.status).toBe(503);
      expect(((await readiness.json()) as {reason: string}).reason).toContain(jwksUri);
    } finally {
      await hubAuth.stop();
    }
  });
});
