import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {parse as parseYaml, stringify} from 'yaml';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeImage, runDocker} from '@hub/test-stack/docker-engine';
import {hubAuthCommand, keygen, SERVICE, startHubAuth, type HubAuth, type SigningFiles} from '@hub/test-stack/hub-auth';
import {LOOKALIKE_USERS, startIdentityProvider, subjectOf, USERS, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {freePort} from '@hub/test-stack/ports';
import {startPostgres, type Postgres} from '@hub/test-stack/postgres';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';
import {registryAudience} from '@hub/protocol/registry-audience';
import {parseConfig} from '../../packages/hub-auth/src/config.js';
import {openStore, type Store} from '../../packages/hub-auth/src/store/open-store.js';
import {signInSessions} from '../../packages/hub-auth/src/sessions/sessions.js';

const [alice, bob] = USERS as [(typeof USERS)[number], (typeof USERS)[number]];
/** Another person at the provider whose username is alice too: the one the name is given to. */
const mallory = LOOKALIKE_USERS.find((user) => user.username === 'mallory')!;

/** The token endpoint's OAuth2 form, as docker posts it. */
async function tokenGrant(hubAuth: HubAuth, form: Record<string, string>): Promise<{status: number; body: Record<string, string>}> {
  const response = await fetch(`${hubAuth.url}/token`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({service: SERVICE, client_id: 'docker', ...form}).toString(),
  });
  return {status: response.status, body: (await response.json()) as Record<string, string>};
}

const refreshGrant = (hubAuth: HubAuth, identityToken: string, repository: string) =>
  tokenGrant(hubAuth, {grant_type: 'refresh_token', refresh_token: identityToken, scope: `repository:${repository}:pull,push`});

/** An identity token as `docker login` gets one: the password grant with the provider's access token, offline. */
async function identityTokenOf(hubAuth: HubAuth, accessToken: string, repository: string): Promise<string> {
  const answer = await tokenGrant(hubAuth, {
    grant_type: 'password',
    username: 'anyone',
    password: accessToken,
    access_type: 'offline',
    scope: `repository:${repository}:pull,push`,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(typeof answer.body.refresh_token).toBe('string');
  return answer.body.refresh_token!;
}

/**
 * Releasing a name, done as item 6 of issue #23 describes the attack: alice leaves, her identity
 * token was copied, the operator gives the name to someone else, and the copy tries again.
 */
describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))('hub-auth accounts release and the operator commands', () => {
  let stack: RegistryStack;
  let registry: string;

  beforeAll(async () => {
    stack = await startRegistryStack();
    registry = stack.registry.host;
    await makeImage(stack.env, stack.sandbox.dir, 'release:source');
  });

  afterAll(() => stack?.stop());

  const docker = (args: string[], input?: string) => runDocker(stack.env, args, input);

  const accessToken = (username: string) => stack.idp.issueOpaqueToken(username, undefined, registryAudience(registry));

  async function loginAndPush(username: string, repository: string): Promise<{code: number; output: string}> {
    await docker(['logout', registry]);
    const login = await docker(['login', registry, '--username', 'anyone', '--password-stdin'], await accessToken(username));
    if (login.code !== 0) return login;
    await docker(['tag', 'release:source', `${registry}/${repository}`]);
    return docker(['push', `${registry}/${repository}`]);
  }

  const config = () => ['--config', stack.hubAuth.configFile];

  it("gives alice's name to another holder: her copied identity token is refused and never takes it back; the new holder pushes", async () => {
    expect((await loginAndPush(alice.username, 'alice/app:1')).code).toBe(0);
    // What alice's machine had, copied before she left: the identity token docker login keeps.
    const copy = await identityTokenOf(stack.hubAuth, await accessToken(alice.username), 'alice/app');
    expect((await refreshGrant(stack.hubAuth, copy, 'alice/app')).status).toBe(200);

    const released = await hubAuthCommand([
      'accounts',
      'release',
      'alice',
      '--to',
      stack.idp.issuer,
      subjectOf(mallory.username),
      ...config(),
    ]);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toContain(`gave account alice to ${stack.idp.issuer} ${subjectOf(mallory.username)}`);
    expect(released.stdout).toContain(`held by ${stack.idp.issuer} ${subjectOf(alice.username)}`);

    // The copy, on the refresh grant as docker uses it: refused at once, with what to do.
    const refused = await refreshGrant(stack.hubAuth, copy, 'alice/app');
    expect(refused.status).toBe(401);
    expect(refused.body.error_description).toMatch(/this sign-in was ended \(account name given to another holder\).*sign in again/);
    // Alice's own sign-in is someone else's name now.
    const aliceAgain = await loginAndPush(alice.username, 'alice/app:2');
    expect(aliceAgain.code).not.toBe(0);
    // The new holder gets push in alice/, and the copy still gets nothing.
    const pushed = await loginAndPush(mallory.username, 'alice/app:3');
    expect(pushed.code, pushed.output).toBe(0);
    expect((await refreshGrant(stack.hubAuth, copy, 'alice/app')).status).toBe(401);
  });

  it("frees bob's name: his copied identity token does not claim it, and the name stays free for the next sign-in", async () => {
    expect((await loginAndPush(bob.username, 'bob/app:1')).code).toBe(0);
    const copy = await identityTokenOf(stack.hubAuth, await accessToken(bob.username), 'bob/app');
    const released = await hubAuthCommand(['accounts', 'release', 'bob', ...config()]);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toContain(`released account bob (held by ${stack.idp.issuer} ${subjectOf(bob.username)})`);

    expect((await refreshGrant(stack.hubAuth, copy, 'bob/app')).status).toBe(401);
    // Still free: nobody holds it, as a second release says.
    const again = await hubAuthCommand(['accounts', 'release', 'bob', ...config()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('nobody holds the account name bob');
  });

  it('says what is wrong, and exits non-zero: bad arguments, an unknown session, a wrong credential, an instance not running', async () => {
    const usage = await hubAuthCommand(['revoke', '--account', 'alice', '--session', 'x', ...config()]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('revoke needs one of --account NAME, --subject ISS SUB or --session ID');
    const half = await hubAuthCommand(['revoke', '--subject', stack.idp.issuer, ...config()]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('--subject takes two values');
    const noConfig = await hubAuthCommand(['sessions', 'list']);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('needs --config FILE');
    const badId = await hubAuthCommand(['revoke', '--session', 'not-a-session', ...config()]);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('session: must be a session id as `hub-auth sessions list` shows it');

    const unknown = await hubAuthCommand(['revoke', '--session', '00000000-0000-4000-8000-000000000000', ...config()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no live session 00000000-0000-4000-8000-000000000000');

    const text = parseYaml(await readFile(stack.hubAuth.configFile, 'utf8')) as Record<string, unknown>;
    const wrongFile = join(stack.sandbox.dir, 'wrong-credential.yml');
    await writeFile(wrongFile, stringify({...text, admin: {credential: {value: 'not-the-credential'}}}));
    const wrong = await hubAuthCommand(['sessions', 'list', '--config', wrongFile]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refused the admin credential');
    expect(wrong.stderr).not.toContain('not-the-credential');

    const port = await freePort();
    const downFile = join(stack.sandbox.dir, 'not-running.yml');
    await writeFile(downFile, stringify({...text, monitoring: {host: '127.0.0.1', port}}));
    const down = await hubAuthCommand(['sessions', 'list', '--config', downFile]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`hub-auth is not running at http://127.0.0.1:${port}`);
    expect(down.stderr).toContain(`hub-auth serve --config ${downFile}`);
  });

  it('never logs the admin credential', async () => {
    const credential = (await readFile(join(stack.hubAuth.configFile, '..', 'admin-credential'), 'utf8')).trim();
    expect(credential.length).toBeGreaterThan(30);
    expect(stack.hubAuth.daemon.output()).not.toContain(credential);
  });
});

/**
 * `hub-auth revoke` on instances that share one PostgreSQL: a revocation made through one is seen
 * by the others at their next request, since each reads the session's row.
 */
describe.runIf(e2eEnabled([]))('hub-auth revoke and sessions list, three instances on one PostgreSQL', () => {
  let sandbox: Sandbox;
  let idp: IdentityProvider;
  let signing: SigningFiles;
  let postgres: Postgres;
  let url: string;
  let instances: HubAuth[];
  let store: Store;
  const registryHost = '127.0.0.1:5000';

  beforeAll(async () => {
    sandbox = await createSandbox('hub-auth-ending-access');
    idp = await startIdentityProvider();
    signing = await keygen(join(sandbox.dir, 'keys'));
    postgres = await startPostgres();
    url = await postgres.database('ending_access');
    const dir = join(sandbox.dir, 'scale');
    // One credential file for the three, as instances on one machine with one configuration share it.
    const options = {
      dir,
      oidcIssuer: idp.issuer,
      registryHost,
      signing,
      store: {url: {env: 'HUB_AUTH_STORE_URL'}},
      env: {HUB_AUTH_STORE_URL: url, HUB_AUTH_INTROSPECTION_SECRET: 'hub-auth-introspection-secret'},
      extra: {admin: {credentialFile: join(dir, 'admin-credential')}},
    };
    instances = await Promise.all([startHubAuth(options), startHubAuth(options), startHubAuth(options)]);
    store = await openStore(
      parseConfig({
        service: SERVICE,
        signing: {key: {value: 'unused'}, certificate: {value: 'unused'}},
        oidc: {issuer: idp.issuer},
        client: {clientId: 'hub-cli'},
        registry: {host: registryHost},
        store: {url},
      }).store,
      {info: () => undefined, warn: () => undefined, error: () => undefined},
    );
  });

  afterAll(async () => {
    await store?.close();
    for (const instance of instances ?? []) await instance.stop();
    await postgres?.remove();
    await idp?.stop();
    await sandbox?.remove();
  });

  const listed = async (instance: HubAuth, account: string) => {
    const run = await hubAuthCommand(['sessions', 'list', '--account', account, '--json', '--config', instance.configFile]);
    expect(run.code, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as {sessions: Array<{id: string; account: string; client: string; address: string}>}).sessions;
  };

  it("revoke --account through one instance ends alice's session for all three; sessions list shows it before and not after", async () => {
    // The session as the token route records a sign-in (sessions/sessions.ts), in the store the three share.
    const now = Math.floor(Date.now() / 1000);
    const issued = await signInSessions(store).start({
      holder: {issuer: idp.issuer, subject: subjectOf(alice.username)},
      account: 'alice',
      groups: alice.groups,
      client: 'docker',
      address: '127.0.0.1',
      nowSeconds: now,
      expiresAt: now + 3600,
    });
    for (const instance of instances)
      expect(await listed(instance, 'alice')).toEqual([
        expect.objectContaining({id: issued.sessionId, client: 'docker', address: '127.0.0.1'}),
      ]);
    const table = await hubAuthCommand(['sessions', 'list', '--config', instances[0]!.configFile]);
    expect(table.stdout).toMatch(/^ACCOUNT +SINCE +LAST USED +CLIENT +ADDRESS/);
    expect(table.stdout).toContain(issued.sessionId);

    const revoked = await hubAuthCommand(['revoke', '--account', 'alice', '--config', instances[1]!.configFile]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe('revoked 1 session of account alice\n');
    for (const instance of instances) expect(await listed(instance, 'alice')).toEqual([]);
    expect((await signInSessions(store).ofToken(issued.tokenId))?.revoked?.reason).toBe('revoked by the operator');
    const again = await hubAuthCommand(['revoke', '--account', 'alice', '--config', instances[2]!.configFile]);
    expect(again.stdout).toBe('no live sessions of account alice: nothing to revoke\n');
  });

  it('revoke --subject and --session end what they name, through any instance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sessions = signInSessions(store);
    const start = (username: string) =>
      sessions.start({
        holder: {issuer: idp.issuer, subject: subjectOf(username)},
        account: username,
        groups: [],
        client: 'hub',
        address: '127.0.0.1',
        nowSeconds: now,
        expiresAt: now + 3600,
      });
    await start(bob.username);
    const other = await start(alice.username);
    const bySubject = await hubAuthCommand([
      'revoke',
      '--subject',
      idp.issuer,
      subjectOf(bob.username),
      '--config',
      instances[0]!.configFile,
    ]);
    expect(bySubject.stdout).toBe(`revoked 1 session of subject ${subjectOf(bob.username)} of ${idp.issuer}\n`);
    const bySession = await hubAuthCommand(['revoke', '--session', other.sessionId, '--config', instances[2]!.configFile]);
    expect(bySession.stdout).toBe(`revoked 1 session of session ${other.sessionId}\n`);
    expect(await listed(instances[1]!, 'alice')).toEqual([]);
    expect(await listed(instances[1]!, 'bob')).toEqual([]);
  });

  it('the identity token alice got from the password grant is refused by all three instances once revoke --account ends her session', async () => {
    const identityToken = await identityTokenOf(
      instances[0]!,
      await idp.issueOpaqueToken(alice.username, undefined, registryAudience(registryHost)),
      'alice/app',
    );
    for (const instance of instances) expect((await refreshGrant(instance, identityToken, 'alice/app')).status).toBe(200);
    expect(await listed(instances[2]!, 'alice')).toEqual([expect.objectContaining({account: 'alice', client: 'docker'})]);
    const revoked = await hubAuthCommand(['revoke', '--account', 'alice', '--config', instances[1]!.configFile]);
    expect(revoked.code, revoked.stderr).toBe(0);
    // The first request after the command returns, at each instance: no wait at all, well inside 1 s.
    for (const instance of instances) expect((await refreshGrant(instance, identityToken, 'alice/app')).status).not.toBe(200);
    expect(await listed(instances[0]!, 'alice')).toEqual([]);
  });
});
