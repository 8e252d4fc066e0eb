import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {decodeJwt} from 'jose';
import {afterEach, describe, expect, it} from 'vitest';
import {accountBindings} from '../../../../src/accounts/bindings.js';
import {registryActivity} from '../../../../src/activity/registry-activity.js';
import {emptied} from '../../../stores.js';
import {signInSessions} from '../../../../src/sessions/sessions.js';
import {StoreUnavailableError} from '../../../../src/store/sql.js';
import {parseConfig} from '../../../../src/config.js';
import {config, rawConfig, service, store, type TokenAnswer} from './token-service.js';

describe('GET /token with token reuse', () => {
  it('answers the same grant within the window with the same token, its original issued_at and the time it has left', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    const first = await hub.get('alice-token', 'repository:alice/app:pull,push');
    expect(first).toMatchObject({status: 200, body: {expires_in: 300}});
    hub.tick(3);
    const again = await hub.get('alice-token', 'repository:alice/app:pull,push');
    expect(again.status).toBe(200);
    expect(again.body.token).toBe(first.body.token);
    expect(again.body.access_token).toBe(first.body.token);
    expect(again.body.issued_at).toBe(first.body.issued_at);
    expect(again.body.expires_in).toBe(297);
    const claims = decodeJwt(again.body.token!);
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(new Date(again.body.issued_at!).getTime() / 1000).toBe(claims.iat);
  });

  it('signs a new token once the window has passed', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    const first = await hub.get('alice-token', 'repository:alice/app:pull');
    hub.tick(config.tokenReuseSeconds);
    const later = await hub.get('alice-token', 'repository:alice/app:pull');
    expect(later.body.token).not.toBe(first.body.token);
    expect(later.body.expires_in).toBe(300);
  });

  it('gives another scope or another account a token of its own', async () => {
    const hub = service({'alice-token': {username: 'alice'}, 'bob-token': {username: 'bob'}, 'alice-again': {username: 'alice'}});
    const alicePull = await hub.get('alice-token', 'repository:alice/app:pull');
    const alicePush = await hub.get('alice-token', 'repository:alice/app:pull,push');
    const bobPull = await hub.get('bob-token', 'repository:alice/app:pull');
    expect(new Set([alicePull.body.token, alicePush.body.token, bobPull.body.token]).size).toBe(3);
    expect(decodeJwt(bobPull.body.token!)).toMatchObject({sub: 'bob', access: []});
    // Another access token of the same account, granted the same: the same registry token.
    expect((await hub.get('alice-again', 'repository:alice/app:pull')).body.token).toBe(alicePull.body.token);
  });

  it('refuses an access token that is no longer good even though a token for its grant is at hand', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    expect((await hub.get('alice-token', 'repository:alice/app:pull')).status).toBe(200);
    hub.revoke('alice-token');
    const refused = await hub.get('alice-token', 'repository:alice/app:pull');
    expect(refused.status).toBe(401);
    expect(refused.body.token).toBeUndefined();
    expect(refused.body.errors?.[0]?.code).toBe('UNAUTHORIZED');
    expect((await hub.get('forged-token', 'repository:alice/app:pull')).status).toBe(401);
  });

  it('answers a typed password (docker login) with a pointer to hub login, and a bad access token as before', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    const typed = await hub.get('typed secret', 'repository:alice/app:pull');
    expect(typed.status).toBe(401);
    expect(typed.body.errors?.[0]?.message).toBe(
      'docker login with a password is not how registry.example.com signs you in: run "hub login registry.example.com" ' +
        '(a robot or CI passes an access token from the identity provider as the password)',
    );
    expect((await hub.get('forged-token', 'repository:alice/app:pull')).body.errors?.[0]?.message).toBe(
      'the identity provider says the token is not active: log in again (hub login)',
    );
  });

  it('reuses the registry token but signs a fresh refresh token for offline_token=true', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    const first = await hub.get('alice-token', 'repository:alice/app:pull', '&offline_token=true');
    hub.tick(1);
    const again = await hub.get('alice-token', 'repository:alice/app:pull', '&offline_token=true');
    expect(again.body.token).toBe(first.body.token);
    expect(first.body.refresh_token).toBeDefined();
    expect(again.body.refresh_token).toBeDefined();
    expect(again.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(decodeJwt(again.body.refresh_token!)).toMatchObject({sub: 'alice', iat: decodeJwt(first.body.refresh_token!).iat! + 1});

    const refreshed = await hub.app.inject({
      method: 'POST',
      url: '/token',
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: again.body.refresh_token!,
        service: 'registry.example.com',
        scope: 'repository:alice/app:pull',
      }).toString(),
      headers: {'content-type': 'application/x-www-form-urlencoded'},
    });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json<TokenAnswer>().token).toBe(first.body.token);
  });

  it('logs every request, who got what, and what was asked only when it was not all granted', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    await hub.get('alice-token', 'repository:alice/app:pull');
    await hub.get('alice-token', 'repository:alice/app:pull');
    await hub.get('alice-token', 'repository:bob/app:pull');
    const decisions = hub.lines.filter((line) => line.event === 'token');
    expect(decisions).toHaveLength(3);
    expect(decisions[1]).toMatchObject({
      msg: 'token issued',
      grant: 'password',
      account: 'alice',
      granted: ['repository:alice/app:pull'],
      refresh: false,
    });
    expect(decisions[1]).not.toHaveProperty('requested');
    expect(decisions[2]).toMatchObject({granted: [], requested: ['repository:bob/app:pull']});
    expect(JSON.stringify(hub.lines)).not.toContain('alice-token');
  });

  it('checks tokens for the client address, the one X-Forwarded-For names only when the proxy is trusted', async () => {
    const direct = service({'alice-token': {username: 'alice'}});
    await direct.get('alice-token', 'repository:alice/app:pull', '', {'x-forwarded-for': '203.0.113.9'});
    expect(direct.clients).toEqual(['127.0.0.1']);
    const proxied = service({'alice-token': {username: 'alice'}}, {listen: {trustProxy: ['127.0.0.1']}});
    await proxied.get('alice-token', 'repository:alice/app:pull', '', {'x-forwarded-for': '203.0.113.9'});
    expect(proxied.clients).toEqual(['203.0.113.9']);
  });

  it('refuses a POST body other than the form with 415, and logs and counts the refusal', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    for (const [type, payload] of [
      ['application/json', '{"scope":1}'],
      ['text/plain', 'grant_type=password'],
    ]) {
      const response = await hub.app.inject({method: 'POST', url: '/token', payload, headers: {'content-type': type!}});
      expect(response.statusCode, type).toBe(415);
      expect(response.json()).toMatchObject({error: 'invalid_request', error_description: expect.stringContaining(`not "${type}"`)});
    }
    expect(hub.lines.filter((line) => line.msg === 'request refused')).toMatchObject([
      {outcome: 'bad_request', status: 415},
      {outcome: 'bad_request', status: 415},
    ]);
    expect((await hub.monitoring.inject({url: '/metrics'})).body).toMatch(
      /^hub_auth_token_requests_total\{grant="unknown",outcome="bad_request"\} 2$/m,
    );
  });

  it('shows the answer times as a Prometheus histogram by grant', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    await hub.get('alice-token', 'repository:alice/app:pull');
    await hub.get(undefined, 'repository:alice/app:pull');
    const metrics = (await hub.monitoring.inject({url: '/metrics'})).body;
    expect((await hub.app.inject({url: '/metrics'})).statusCode).toBe(404);
    expect(metrics).toContain('# TYPE hub_auth_token_request_duration_seconds histogram');
    expect(metrics).toMatch(/^hub_auth_token_request_duration_seconds_bucket\{le="\+Inf",grant="password"\} 1$/m);
    expect(metrics).toMatch(/^hub_auth_token_request_duration_seconds_count\{grant="anonymous"\} 1$/m);
    expect(metrics).toMatch(/^hub_auth_token_requests_total\{grant="password",outcome="issued"\} 1$/m);
  });
});

describe('GET /token refusing accounts', () => {
  it.each(['Alice', 'alice_', '.alice.', 'alice@', 'public', 'groups', 'robots', 'library'])(
    'refuses the username %s instead of making it into a namespace, telling the user and warning the operator',
    async (username) => {
      const hub = service({'odd-token': {username}});
      const answer = await hub.get('odd-token', 'repository:alice/app:pull,push');
      expect(answer.status).toBe(403);
      expect(answer.body.token).toBeUndefined();
      expect(answer.body.errors?.[0]).toMatchObject({code: 'DENIED', message: expect.stringContaining("ask the registry's operator")});
      expect(answer.body.errors?.[0]?.message).toContain(JSON.stringify(username));
      const warning = hub.lines.find((line) => line.event === 'account refused');
      expect(warning).toMatchObject({level: 40, claim: 'preferred_username', subject: `sub-${username}`, reason: expect.any(String)});
      expect(JSON.stringify(hub.lines)).not.toContain('odd-token');
    },
  );

  it('binds a name to the first subject that uses it and refuses it to any other, on every grant', async () => {
    const bindings = accountBindings(await emptied(store));
    const hub = service(
      {'first-token': {username: 'carol', subject: 'first'}, 'second-token': {username: 'carol', subject: 'second'}},
      {bindings},
    );
    const first = await hub.get('first-token', 'repository:carol/app:pull,push', '&offline_token=true');
    expect(first.status).toBe(200);
    const second = await hub.get('second-token', 'repository:carol/app:pull,push');
    expect(second.status).toBe(403);
    expect(second.body.errors?.[0]?.message).toContain('belongs to someone else');
    expect(hub.lines.find((line) => line.event === 'account refused')).toMatchObject({level: 40, subject: 'second'});
    // The first subject keeps it, through its access token and its refresh token alike.
    expect((await hub.get('first-token', 'repository:carol/app:push')).status).toBe(200);
    expect((await hub.refresh(first.body.refresh_token, 'repository:carol/app:push')).status).toBe(200);
  });

  it('stops a refresh token once the operator has given its name to another holder', async () => {
    let nowMs = 0;
    const hub = service(
      {'first-token': {username: 'grace', subject: 'first'}, 'second-token': {username: 'grace', subject: 'second'}},
      {bindings: accountBindings(await emptied(store), {recheckMs: 1000, nowMs: () => nowMs})},
    );
    const first = await hub.get('first-token', 'repository:grace/app:pull', '&offline_token=true');
    expect(first.status).toBe(200);
    // The operator releases the name (README, Accounts), and after a second the second subject takes it.
    await store.query('DELETE FROM account_bindings WHERE account = $1', ['grace']);
    nowMs += 1000;
    expect((await hub.get('second-token', 'repository:grace/app:push')).status).toBe(200);
    const refreshed = await hub.refresh(first.body.refresh_token, 'repository:grace/app:push');
    expect(refreshed.status).toBe(401);
    expect(refreshed.body).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringContaining('"grace" is no longer bound to this sign-in'),
    });
  });

  it('never lets an identity token claim a released name back: its old holder is refused and the name stays free', async () => {
    let nowMs = 0;
    const hub = service(
      {'departed-token': {username: 'heidi', subject: 'departed'}},
      {
        bindings: accountBindings(await emptied(store), {recheckMs: 1000, nowMs: () => nowMs}),
      },
    );
    const copied = (await hub.get('departed-token', 'repository:heidi/app:pull', '&offline_token=true')).body.refresh_token;
    await store.query('DELETE FROM account_bindings WHERE account = $1', ['heidi']);
    nowMs += 1000;
    const refreshed = await hub.refresh(copied, 'repository:heidi/app:push');
    expect(refreshed).toMatchObject({
      status: 401,
      body: {error: 'invalid_grant', error_description: expect.stringContaining('sign in again')},
    });
    expect(refreshed.body.token).toBeUndefined();
    expect(await store.query('SELECT account FROM account_bindings WHERE account = $1', ['heidi'])).toEqual([]);
  });

  it('gives a group the groups/ namespace, never the one of a user named like it', async () => {
    const hub = service({'member-token': {username: 'erin', groups: ['dev']}, 'dev-token': {username: 'dev'}});
    const member = await hub.get('member-token', 'repository:groups/dev/app:push repository:dev/app:push');
    expect(decodeJwt(member.body.token!).access).toEqual([{type: 'repository', name: 'groups/dev/app', actions: ['push']}]);
    const dev = await hub.get('dev-token', 'repository:groups/dev/app:push repository:dev/app:push');
    expect(decodeJwt(dev.body.token!).access).toEqual([{type: 'repository', name: 'dev/app', actions: ['push']}]);
  });

  it('grants nobody the catalog under the default policy', async () => {
    const hub = service({'alice-token': {username: 'alice'}});
    const answer = await hub.get('alice-token', 'registry:catalog:*');
    expect(answer.status).toBe(200);
    expect(decodeJwt(answer.body.token!).access).toEqual([]);
  });
});

describe('GET /repositories', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const started of servers.splice(0)) await new Promise<void>((resolve) => started.close(() => resolve()));
  });

  /**
   * A registry on loopback serving `pages` of its catalog, each linking to the next by `link`; a
   * `last` query is answered as distribution does, with the names after it, sorted path by path.
   */
  async function registry(pages: string[][], link: (index: number, origin: string) => string | undefined) {
    const seen: Array<{url: string; access: unknown}> = [];
    const pathOrder = (name: string) => name.replaceAll('/', '\0');
    const started = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      const index = Number(query.get('page') ?? 0);
      const bearer = req.headers.authorization?.replace(/^Bearer /, '');
      seen.push({url: req.url ?? '', access: bearer ? decodeJwt(bearer).access : undefined});
      const last = query.get('last');
      if (last !== null) {
        const after = pages.flat().filter((name) => pathOrder(name) > pathOrder(last));
        return void res
          .setHeader('content-type', 'application/json')
          .end(JSON.stringify({repositories: after.sort((a, b) => (pathOrder(a) < pathOrder(b) ? -1 : 1))}));
      }
      const next = link(index, `http://${req.headers.host}`);
      if (next) res.setHeader('link', `<${next}>; rel="next"`);
      res.setHeader('content-type', 'application/json').end(JSON.stringify({repositories: pages[index] ?? []}));
    });
    servers.push(started);
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    return {origin: `http://127.0.0.1:${(started.address() as AddressInfo).port}`, seen};
  }

  function listingService(registryUrl: string) {
    return service(
      {'alice-token': {username: 'alice', groups: ['devs']}, 'bob-token': {username: 'bob'}},
      {config: parseConfig({...rawConfig, registry: {host: 'registry.example.com', url: registryUrl}})},
    );
  }

  async function list(hub: ReturnType<typeof service>, token?: string) {
    const response = await hub.app.inject({
      url: '/repositories',
      headers: token ? {authorization: `Basic ${Buffer.from(`u:${token}`).toString('base64')}`} : {},
    });
    return {status: response.statusCode, body: response.json<{repositories?: string[]; errors?: Array<{message: string}>}>()};
  }

  it('lists, across catalog pages, only what the caller may pull, reading the catalog with a catalog-only token', async () => {
    const pages = [
      ['alice/app', 'bob/app', 'groups/devs/tool'],
      ['library/debian', 'groups/ops/x', 'Bad/Name'],
    ];
    const upstream = await registry(pages, (index) => (index === 0 ? '/v2/_catalog?n=1000&page=1' : undefined));
    const hub = listingService(upstream.origin);
    expect(await list(hub, 'alice-token')).toEqual({
      status: 200,
      body: {repositories: ['alice/app', 'groups/devs/tool', 'library/debian']},
    });
    expect(await list(hub, 'bob-token')).toEqual({status: 200, body: {repositories: ['bob/app', 'library/debian']}});
    // One read of the catalog (two pages) served both listings, and each caller's own namespaces
    // were read from where they start, each time with a token for the catalog and nothing else.
    expect(upstream.seen.map((request) => request.url).sort()).toEqual([
      '/v2/_catalog?n=1000',
      '/v2/_catalog?n=1000&last=alice',
      '/v2/_catalog?n=1000&last=bob',
      '/v2/_catalog?n=1000&last=groups%2Fdevs',
      '/v2/_catalog?n=1000&page=1',
    ]);
    expect(new Set(upstream.seen.map((request) => JSON.stringify(request.access)))).toEqual(
      new Set([JSON.stringify([{type: 'registry', name: 'catalog', actions: ['*']}])]),
    );
  });

  it('shows a repository pushed after the catalog was read at once when it is in a namespace the caller may push to', async () => {
    const pages = [['alice/app', 'bob/app']];
    const hub = listingService((await registry(pages, () => undefined)).origin);
    expect((await list(hub, 'alice-token')).body.repositories).toEqual(['alice/app']);
    pages[0]!.push('alice/new', 'groups/devs/new', 'public/new', 'alice-x/app', 'alice.y/app');
    expect((await list(hub, 'alice-token')).body.repositories).toEqual(['alice/app', 'alice/new', 'groups/devs/new']);
  });

  it('answers GET /namespaces with what the caller may push to and pull from, groups filled in, the layout as the policy has it', async () => {
    const hub = listingService((await registry([], () => undefined)).origin);
    const response = await hub.app.inject({
      url: '/namespaces',
      headers: {authorization: `Basic ${Buffer.from('u:alice-token').toString('base64')}`},
    });
    expect(response.json()).toEqual({
      account: 'alice',
      push: ['alice/*', 'groups/devs/*'],
      pull: ['library/*', 'alice/*', 'groups/devs/*'],
    });
    expect((await hub.app.inject({url: '/namespaces'})).statusCode).toBe(401);
  });

  it("answers GET /pushes with each tag's last push the registry told of, for a repository the caller may pull, and 404 otherwise", async () => {
    await store.query('TRUNCATE registry_events');
    const hub = listingService((await registry([], () => undefined)).origin);
    const digest = (n: number) => `sha256:${String(n).repeat(64)}`;
    const push = (id: string, tag: string, n: number, at: string, actor: string) =>
      ({
        id,
        action: 'push',
        at: new Date(at),
        repository: 'alice/app',
        tag,
        digest: digest(n),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 1,
        actor,
      }) as const;
    await registryActivity(store).record([
      push('1', 'v1', 1, '2026-12-07T10:00:00Z', 'alice'),
      push('2', 'v1', 2, '2026-12-07T11:00:00Z', 'alice-ci'),
      push('3', 'v2', 3, '2026-12-07T12:00:00Z', 'alice'),
    ]);
    const pushes = (token: string, repository: string) =>
      hub.app.inject({
        url: `/pushes?repository=${encodeURIComponent(repository)}`,
        headers: {authorization: `Basic ${Buffer.from(`u:${token}`).toString('base64')}`},
      });
    expect((await pushes('alice-token', 'alice/app')).json()).toEqual({
      repository: 'alice/app',
      pushes: [
        {tag: 'v1', digest: digest(2), by: 'alice-ci', at: '2026-12-07T11:00:00.000Z'},
        {tag: 'v2', digest: digest(3), by: 'alice', at: '2026-12-07T12:00:00.000Z'},
      ],
    });
    // bob may not pull alice/app: the same answer as for a name that is none.
    const refused = await pushes('bob-token', 'alice/app');
    expect(refused.statusCode).toBe(404);
    expect((await pushes('bob-token', '../etc')).json()).toEqual(refused.json());
    expect((await hub.app.inject({url: '/pushes?repository=alice/app'})).statusCode).toBe(401);
  });

  it('refuses callers without credentials', async () => {
    const hub = listingService((await registry([], () => undefined)).origin);
    expect((await list(hub)).status).toBe(401);
  });

  it('stops at a Link to another origin, and the catalog token never goes there', async () => {
    const elsewhere = await registry([['stolen/x']], () => undefined);
    const upstream = await registry([['alice/app']], () => `${elsewhere.origin}/v2/_catalog?n=1000&page=1`);
    const hub = listingService(upstream.origin);
    const answer = await list(hub, 'alice-token');
    expect(answer.status).toBe(502);
    expect(elsewhere.seen).toEqual([]);
    expect(hub.lines.find((line) => line.event === 'repositories')).toMatchObject({level: 40, error: expect.stringContaining('outside')});
  });
});

describe('identity tokens and their sign-in sessions', () => {
  const offline = (password: string, more: Record<string, string> = {}) => ({
    grant_type: 'password',
    client_id: 'docker',
    access_type: 'offline',
    service: 'registry.example.com',
    scope: 'repository:ivan/app:pull',
    password,
    ...more,
  });
  const sessionOf = async (identityToken: string) =>
    (
      await store.query<{session_id: string; client: string; address: string; provider_session: string | null; groups: string[]}>(
        'SELECT t.session_id, s.client, s.address, s.provider_session, s.groups FROM identity_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.id = $1',
        [decodeJwt(identityToken).jti],
      )
    )[0];

  it('names its session and its own id as the store records them, and the re-check window; nothing else', async () => {
    const hub = service({'ivan-token': {username: 'ivan', groups: ['dev'], sid: 'provider-session-1'}});
    const answer = await hub.post('/token', offline('ivan-token'));
    expect(answer.status).toBe(200);
    const claims = decodeJwt(answer.body!.refresh_token!);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'chk', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub', 'svc', 'token_use']);
    expect(claims).toMatchObject({
      sub: 'ivan',
      chk: config.refreshTokens.revalidateSeconds,
      exp: claims.iat! + config.refreshTokens.lifetimeSeconds,
    });
    expect(await sessionOf(answer.body!.refresh_token!)).toEqual({
      session_id: claims.sid,
      client: 'docker',
      address: '127.0.0.1',
      provider_session: 'provider-session-1',
      groups: ['dev'],
    });
  });

  it('continues the session of the identity token it is given, for the same holder and a live session only', async () => {
    const hub = service({'judy-token': {username: 'judy'}, 'judy-again': {username: 'judy'}, 'mallory-token': {username: 'mallory'}});
    const first = (await hub.post('/token', offline('judy-token'))).body!.refresh_token!;
    const continued = (await hub.post('/token', offline('judy-again', {client_id: 'hub', refresh_token: first}))).body!.refresh_token!;
    expect(decodeJwt(continued).sid).toBe(decodeJwt(first).sid);
    expect(decodeJwt(continued).jti).not.toBe(decodeJwt(first).jti);
    // Someone else's token presented with it: a session of their own, never judy's.
    const other = (await hub.post('/token', offline('mallory-token', {refresh_token: first}))).body!.refresh_token!;
    expect(decodeJwt(other).sid).not.toBe(decodeJwt(first).sid);
    await hub.post('/revoke', {token: first});
    const afterLogout = (await hub.post('/token', offline('judy-token', {refresh_token: continued}))).body!.refresh_token!;
    expect(decodeJwt(afterLogout).sid).not.toBe(decodeJwt(first).sid);
  });

  it('trades one only while its session was re-checked within refreshTokens.revalidateSeconds, and says what to do after', async () => {
    const hub = service({'kim-token': {username: 'kim'}});
    const identity = (await hub.get('kim-token', 'repository:kim/app:pull', '&offline_token=true')).body.refresh_token;
    hub.tick(config.refreshTokens.revalidateSeconds + 1);
    const lapsed = await hub.refresh(identity, 'repository:kim/app:push');
    expect(lapsed).toMatchObject({
      status: 401,
      body: {
        error: 'invalid_grant',
        error_description: expect.stringMatching(/more than 1 h ago: sign in again \(docker login\).*hub login/),
      },
    });
    // A valid access token of kim's passing (GET with Basic) is the re-check.
    expect((await hub.get('kim-token', 'repository:kim/app:pull')).status).toBe(200);
    expect((await hub.refresh(identity, 'repository:kim/app:push')).status).toBe(200);
  });

  it('grants what the groups the last access token showed allow, read from the session', async () => {
    const users = {'lena-token': {username: 'lena', groups: ['dev']}};
    const hub = service(users);
    const identity = (await hub.get('lena-token', 'repository:lena/app:pull', '&offline_token=true')).body.refresh_token;
    const push = 'repository:groups/dev/app:push';
    expect(decodeJwt((await hub.refresh(identity, push)).body.token!).access).toEqual([
      {type: 'repository', name: 'groups/dev/app', actions: ['push']},
    ]);
    users['lena-token'].groups = [];
    await hub.get('lena-token', 'repository:lena/app:pull');
    expect(decodeJwt((await hub.refresh(identity, push)).body.token!).access).toEqual([]);
  });

  it('refuses a token whose session was ended, saying why', async () => {
    const hub = service({'mona-token': {username: 'mona'}});
    const identity = (await hub.get('mona-token', 'repository:mona/app:pull', '&offline_token=true')).body.refresh_token!;
    await signInSessions(store).revoke({session: decodeJwt(identity).sid as string}, 'ended by the operator', hub.now());
    expect(await hub.refresh(identity, 'repository:mona/app:pull')).toMatchObject({
      status: 401,
      body: {error: 'invalid_grant', error_description: expect.stringContaining('ended (ended by the operator): sign in again')},
    });
    expect(await hub.refresh('not-a-token', 'repository:mona/app:pull')).toMatchObject({
      status: 401,
      body: {error: 'invalid_grant', error_description: expect.stringContaining('hub login, or docker login')},
    });
  });

  it('answers 503 temporarily_unavailable with Retry-After when the store cannot answer, and no token', async () => {
    const identity = (
      await service({'nina-token': {username: 'nina'}}).get('nina-token', 'repository:nina/app:pull', '&offline_token=true')
    ).body.refresh_token!;
    const down = async (): Promise<never> => {
      throw new StoreUnavailableError('the store cannot answer: connection refused');
    };
    const hub = service({'nina-token': {username: 'nina'}}, {sessions: {...signInSessions(store), ofToken: down, start: down}});
    const refused = await hub.post('/token', {grant_type: 'refresh_token', service: 'registry.example.com', refresh_token: identity});
    expect(refused).toMatchObject({status: 503, headers: {'retry-after': '5'}, body: {error: 'temporarily_unavailable'}});
    expect(refused.body?.token).toBeUndefined();
    expect((await hub.post('/token', offline('nina-token'))).status).toBe(503);
  });
});
