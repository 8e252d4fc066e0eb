import {join} from 'node:path';
import {decodeJwt} from 'jose';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {registryAudience} from '@hub/protocol/registry-audience';
import {
  keygen,
  SERVICE,
  startHubAuth,
  type HubAuth,
  type HubAuthOptions,
  type SigningFiles,
  hubAuthLogLines,
} from '@hub/test-stack/hub-auth';
import {ROBOT_CLIENT, startIdentityProvider, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {waitFor} from '@hub/test-stack/ports';
import {e2eEnabled} from '@hub/test-stack/prerequisites';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

const REGISTRY_HOST = 'registry.test:5000';

/**
 * hub-auth against a real provider that publishes and answers differently, as legal providers do
 * (issue #12): endpoints only in RFC 8414 metadata, none at all, introspection without `sub`, and
 * opaque tokens checked at UserInfo.
 */
describe.runIf(e2eEnabled([]))('hub-auth and the provider’s metadata and answers', () => {
  let sandbox: Sandbox;
  let idp: IdentityProvider;
  let keys: SigningFiles;
  let running: HubAuth | undefined;
  let count = 0;

  beforeAll(async () => {
    sandbox = await createSandbox('hub-auth-provider-metadata');
    idp = await startIdentityProvider();
    keys = await keygen(join(sandbox.dir, 'keys'));
  });

  afterEach(async () => {
    idp.behave({hiddenMetadata: {}});
    idp.behave({introspectionShape: {}, opaqueResource: undefined});
    await running?.stop();
    running = undefined;
  });

  afterAll(async () => {
    await idp?.stop();
    await sandbox?.remove();
  });

  async function start(changes: Partial<HubAuthOptions> = {}): Promise<HubAuth> {
    count += 1;
    const options: HubAuthOptions = {
      dir: join(sandbox.dir, `hub-auth-${count}`),
      oidcIssuer: idp.issuer,
      registryHost: REGISTRY_HOST,
      signing: keys,
      ...changes,
    };
    running = await startHubAuth(options);
    return running;
  }

  const opaqueToken = (username: string) => idp.issueOpaqueToken(username, 600, registryAudience(REGISTRY_HOST));

  async function tokenRequest(hubAuth: HubAuth, accessToken: string, repository = 'alice/app') {
    const response = await fetch(`${hubAuth.url}/token?service=${SERVICE}&scope=repository:${repository}:pull`, {
      headers: {authorization: `Basic ${Buffer.from(`user:${accessToken}`).toString('base64')}`},
    });
    const body = (await response.json()) as {token?: string; errors?: Array<{message: string}>};
    return {
      status: response.status,
      body,
      account: body.token ? decodeJwt(body.token).sub : undefined,
      message: body.errors?.[0]?.message ?? '',
    };
  }

  it('finds the introspection endpoint in the RFC 8414 metadata when OpenID discovery leaves it out', async () => {
    idp.behave({hiddenMetadata: {openid: ['introspection_endpoint', 'revocation_endpoint']}});
    const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.introspection_endpoint).toBeUndefined();
    const hubAuth = await start();
    const answer = await tokenRequest(hubAuth, await opaqueToken('alice'));
    expect(answer.status, answer.message).toBe(200);
    expect(answer.account).toBe('alice');
  });

  it('uses oidc.endpoints.introspection when neither document names one', async () => {
    idp.behave({hiddenMetadata: {everywhere: ['introspection_endpoint']}});
    const hubAuth = await start({oidc: {endpoints: {introspection: `${idp.issuer}/token/introspection`}}});
    const answer = await tokenRequest(hubAuth, await opaqueToken('alice'));
    expect(answer.status, answer.message).toBe(200);
    expect(answer.account).toBe('alice');
  });

  it('with no introspection endpoint known: not ready, logs the setting to change, and answers that, not "try again"', async () => {
    idp.behave({hiddenMetadata: {everywhere: ['introspection_endpoint']}});
    const hubAuth = await start({untilAlive: true});
    await waitFor(
      'the configuration problem in the log',
      async () => hubAuthLogLines(hubAuth, 'configuration does not fit the identity provider').length > 0,
    );
    const [line] = hubAuthLogLines(hubAuth, 'configuration does not fit the identity provider');
    expect(line).toMatchObject({level: 50, event: 'provider'});
    expect(String(line!.reason)).toContain('oidc.endpoints.introspection');
    expect(hubAuthLogLines(hubAuth, 'cannot reach the identity provider')).toEqual([]);
    const readiness = await fetch(`${hubAuth.monitoringUrl}/readyz`);
    expect(readiness.status).toBe(503);
    expect(((await readiness.json()) as {reason: string}).reason).toContain('publishes no introspection_endpoint');

    const answer = await tokenRequest(hubAuth, await opaqueToken('alice'));
    expect(answer.status).toBe(503);
    expect(answer.message).toContain('oidc.endpoints.introspection');
    expect(answer.message).toContain("tell the registry's operator");
    expect(answer.message).not.toMatch(/try again|cannot be reached/);
    const metrics = await (await fetch(`${hubAuth.monitoringUrl}/metrics`)).text();
    expect(metrics).toMatch(/hub_auth_token_requests_total\{grant="\w+",outcome="misconfigured"\} 1\n/);
  });

  it('takes the account from `username` when introspection names no sub, binds it to that name, and never lets such an answer take a name bound to a subject', async () => {
    const hubAuth = await start();
    // bob signs in once with a provider that names the subject: his name is bound to it.
    expect((await tokenRequest(hubAuth, await opaqueToken('bob'), 'bob/app')).account).toBe('bob');

    idp.behave({introspectionShape: {omit: ['sub', 'preferred_username'], add: {username: 'alice'}}});
    const alice = await tokenRequest(hubAuth, await opaqueToken('alice'));
    expect(alice.status, alice.message).toBe(200);
    expect(alice.account).toBe('alice');

    // An answer without sub that says "bob" is not bob's subject: the name stays his.
    idp.behave({introspectionShape: {omit: ['sub', 'preferred_username'], add: {username: 'bob'}}});
    const impostor = await tokenRequest(hubAuth, await opaqueToken('mallory'), 'bob/app');
    expect(impostor.status).toBe(403);
    expect(impostor.message).toContain('belongs to someone else');
  });

  it('says which claims the answer had when it names neither a subject nor a username', async () => {
    const hubAuth = await start();
    idp.behave({introspectionShape: {omit: ['sub', 'preferred_username', 'username']}});
    const answer = await tokenRequest(hubAuth, await opaqueToken('alice'));
    expect(answer.status).toBe(403);
    expect(answer.message).toMatch(/no sub, nor preferred_username or username; it sent .*\bactive\b.*\bclient_id\b/);
    expect(answer.message).toContain('oidc.usernameClaim');
  });

  /** The robot's opaque token (client credentials), introspected: oidc-provider's answer for it names client_id and no sub. */
  async function robotOpaqueToken(): Promise<string> {
    idp.behave({opaqueResource: registryAudience(REGISTRY_HOST)});
    const metadata = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as {token_endpoint: string};
    const response = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${ROBOT_CLIENT.id}:${ROBOT_CLIENT.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({grant_type: 'client_credentials', resource: registryAudience(REGISTRY_HOST)}),
    });
    return ((await response.json()) as {access_token: string}).access_token;
  }

  it('takes a robot client’s token whose introspection names no user (no sub, no username) for that robot, with accounts.robotClients only', async () => {
    const token = await robotOpaqueToken();
    expect(token.split('.')).toHaveLength(1);
    const without = await tokenRequest(await start(), token, `robots/${ROBOT_CLIENT.id}/app`);
    expect(without.status).toBe(403);
    expect(without.message).toMatch(/names no user for your token \(no sub, .*it sent .*\bclient_id\b/);
    await running?.stop();
    const hubAuth = await start({extra: {accounts: {robotClients: [ROBOT_CLIENT.id]}}});
    const robot = await tokenRequest(hubAuth, token, `robots/${ROBOT_CLIENT.id}/app`);
    expect(robot.status, robot.message).toBe(200);
    expect(robot.account).toBe(`robots/${ROBOT_CLIENT.id}`);
  });

  it('with oidc.userinfo, checks opaque tokens at the UserInfo endpoint where the provider offers no introspection, once per token while cached', async () => {
    idp.behave({hiddenMetadata: {everywhere: ['introspection_endpoint']}});
    const hubAuth = await start({
      extra: {oidc: {introspection: undefined, userinfo: {acceptTokensIssuedToAnyClient: true, cacheActiveSeconds: 60}}},
    });
    const before = idp.requests.get('/me') ?? 0;
    const token = await idp.issueOpaqueToken('alice');
    for (let i = 0; i < 5; i++) {
      const answer = await tokenRequest(hubAuth, token);
      expect(answer.status, answer.message).toBe(200);
      expect(answer.account).toBe('alice');
    }
    expect((idp.requests.get('/me') ?? 0) - before).toBe(1);
    const metrics = await (await fetch(`${hubAuth.monitoringUrl}/metrics`)).text();
    expect(metrics).toMatch(/hub_auth_access_token_checks_total\{method="userinfo"\} 1\n/);

    // A token the provider does not know is refused as such, not as an outage.
    const forged = await tokenRequest(hubAuth, 'not-a-token-the-provider-issued-0123456789');
    expect(forged.status).toBe(401);
    expect(forged.message).toContain('UserInfo refused it');
  });
});
