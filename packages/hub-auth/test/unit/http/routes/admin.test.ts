import {Writable} from 'node:stream';
import Fastify, {type FastifyBaseLogger} from 'fastify';
import {pino} from 'pino';
import {afterAll, beforeEach, describe, expect, it} from 'vitest';
import {accountBindings} from '../../../../src/accounts/bindings.js';
import {registerAdminRoutes, type AdminAccess} from '../../../../src/http/routes/admin.js';
import {signInSessions, type SessionStart} from '../../../../src/sessions/sessions.js';
import {revocations} from '../../../../src/sessions/revocations.js';
import {webSessions} from '../../../../src/sessions/web-sessions.js';
import {StoreUnavailableError} from '../../../../src/store/sql.js';
import {embedded, emptied} from '../../../stores.js';

const CREDENTIAL = 'admin-credential-of-the-test-0123456789';
const NOW = 1_900_000_000;
const alice = {issuer: 'https://id.example', subject: 'sub-alice'};
const bob = {issuer: 'https://id.example', subject: 'sub-bob'};

const store = await embedded.fresh();
afterAll(() => store.close());

function signIn(holder = alice, account = 'alice'): SessionStart {
  return {holder, account, groups: ['dev'], client: 'docker', address: '192.0.2.7', nowSeconds: NOW, expiresAt: NOW + 3600};
}

/** The admin routes on a fastify of their own, with the log lines they write. */
function adminApp(access: AdminAccess = {credential: CREDENTIAL}) {
  const lines: string[] = [];
  const log = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger: FastifyBaseLogger = pino(log);
  const app = Fastify({loggerInstance: logger});
  const sessions = signInSessions(store);
  const bindings = accountBindings(store, {recheckMs: 60_000});
  registerAdminRoutes(
    app,
    {sessions, revocations: revocations(store, sessions, webSessions(store)), bindings, nowSeconds: () => NOW + 60},
    access,
  );
  const call = (method: 'GET' | 'POST', url: string, payload?: object, credential: string | null = CREDENTIAL) =>
    app.inject({method, url, payload, headers: credential === null ? {} : {authorization: `Bearer ${credential}`}});
  return {app, sessions, bindings, lines, call};
}

beforeEach(async () => {
  await emptied(store);
});

describe('the admin API: its credential', () => {
  it('answers 401 without the credential, or with another, and never logs what was sent', async () => {
    const {call, lines} = adminApp();
    for (const credential of [null, '', 'wrong', `${CREDENTIAL}x`, CREDENTIAL.slice(0, -1)]) {
      const answer = await call('GET', '/admin/sessions', undefined, credential);
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(answer.json()).toMatchObject({error: 'unauthorized'});
    }
    expect((await call('POST', '/admin/revoke', {account: 'alice'}, 'wrong')).statusCode).toBe(401);
    expect(lines.join('')).not.toContain(CREDENTIAL);
    expect(lines.join('')).toContain('admin request refused');
  });

  it('answers 503 with why when the instance has no credential, whatever is sent', async () => {
    const {call} = adminApp({problem: 'admin.credentialFile: cannot write /x/admin-credential: EACCES'});
    const answer = await call('GET', '/admin/sessions');
    expect(answer.statusCode).toBe(503);
    expect(answer.json().message).toContain('EACCES');
  });
});

describe('the admin API: sessions and revocation', () => {
  it('lists live sessions with who, since when, last used, client and address; of one account when asked; bounded', async () => {
    const {call, sessions} = adminApp();
    const first = await sessions.start(signIn());
    await sessions.start(signIn(bob, 'bob'));
    const all = (await call('GET', '/admin/sessions')).json();
    expect(all.sessions).toHaveLength(2);
    expect(all.complete).toBe(true);
    const one = (await call('GET', '/admin/sessions?account=alice')).json();
    expect(one.sessions).toEqual([
      expect.objectContaining({
        id: first.sessionId,
        account: 'alice',
        issuer: alice.issuer,
        subject: alice.subject,
        client: 'docker',
        address: '192.0.2.7',
        createdAt: new Date(NOW * 1000).toISOString(),
        lastUsedAt: new Date(NOW * 1000).toISOString(),
      }),
    ]);
    // Expired before the admin clock (NOW + 60): not live, not listed.
    await sessions.start({...signIn(), expiresAt: NOW + 30});
    expect((await call('GET', '/admin/sessions?account=alice')).json().sessions).toHaveLength(1);
    const limited = (await call('GET', '/admin/sessions?limit=1')).json();
    expect(limited).toMatchObject({limit: 1, complete: false});
    expect(limited.sessions).toHaveLength(1);
  });

  it('revokes by account, by issuer and subject, and by session id, saying how many it ended', async () => {
    const {call, sessions, lines} = adminApp();
    await sessions.start(signIn());
    await sessions.start(signIn());
    const bobs = await sessions.start(signIn(bob, 'bob'));
    const byAccount = await call('POST', '/admin/revoke', {account: 'alice'});
    expect(byAccount.json()).toMatchObject({ended: 2});
    expect((await call('POST', '/admin/revoke', {account: 'alice'})).json()).toMatchObject({ended: 0});
    const other = await sessions.start(signIn(bob, 'bob'));
    expect((await call('POST', '/admin/revoke', {session: other.sessionId})).json()).toEqual({ended: 1, sessions: [other.sessionId]});
    expect((await call('POST', '/admin/revoke', bob)).json()).toEqual({ended: 1, sessions: [bobs.sessionId]});
    expect((await call('GET', '/admin/sessions')).json().sessions).toEqual([]);
    const revoked = await sessions.ofToken(bobs.tokenId);
    expect(revoked?.revoked).toEqual({at: NOW + 60, reason: 'revoked by the operator'});
    expect(lines.filter((line) => line.includes('sessions revoked by the operator'))).toHaveLength(4);
  });

  it('answers 503 with the reason when the store cannot answer, never a guess', async () => {
    const app = Fastify();
    const down = async () => {
      throw new StoreUnavailableError('connection refused');
    };
    const sessions = {...signInSessions(store), list: down, revoke: down};
    registerAdminRoutes(
      app,
      {sessions, revocations: {revoke: down}, bindings: accountBindings(store), nowSeconds: () => NOW},
      {credential: CREDENTIAL},
    );
    const headers = {authorization: `Bearer ${CREDENTIAL}`};
    for (const request of [
      {method: 'GET' as const, url: '/admin/sessions'},
      {method: 'POST' as const, url: '/admin/revoke', payload: {account: 'alice'}},
    ]) {
      const answer = await app.inject({...request, headers});
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toEqual({error: 'store_unavailable', message: 'the store cannot answer: connection refused; try again'});
    }
  });

  it('refuses a body that is not JSON, naming what it takes', async () => {
    const {app} = adminApp();
    const answer = await app.inject({
      method: 'POST',
      url: '/admin/revoke',
      headers: {authorization: `Bearer ${CREDENTIAL}`, 'content-type': 'application/json'},
      payload: 'account=alice',
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error).toBe('bad_request');
  });

  it('answers 404 for a session that is unknown or ended already', async () => {
    const {call} = adminApp();
    const answer = await call('POST', '/admin/revoke', {session: '00000000-0000-4000-8000-000000000000'});
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({error: 'unknown_session'});
    expect(answer.json().message).toContain('hub-auth sessions list');
  });

  it.each([
    ['no target', {}],
    ['two targets', {account: 'alice', session: '00000000-0000-4000-8000-000000000000'}],
    ['a session id that is not one', {session: "1' OR '1'='1"}],
    ['an issuer without a subject', {issuer: alice.issuer}],
    ['an empty account', {account: ''}],
    ['an account that is not text', {account: 7}],
  ])('refuses %s with 400 naming what was wrong', async (_case, body) => {
    const {call} = adminApp();
    const answer = await call('POST', '/admin/revoke', body);
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({error: 'bad_request', message: expect.stringContaining('the body is not valid')});
  });

  it('refuses a listing bound that is out of range, and a filter it does not know', async () => {
    const {call} = adminApp();
    for (const query of ['limit=0', 'limit=1001', 'limit=many', 'acount=alice'])
      expect((await call('GET', `/admin/sessions?${query}`)).statusCode, query).toBe(400);
  });
});

describe('the admin API: releasing an account name', () => {
  it('frees the name and ends its holder sessions, or gives it to another', async () => {
    const {call, sessions, bindings} = adminApp();
    expect(await bindings.claim('alice', alice)).toBe(true);
    await sessions.start(signIn());
    const freed = (await call('POST', '/admin/accounts/release', {account: 'alice'})).json();
    expect(freed).toMatchObject({account: 'alice', from: alice, to: null, ended: 1});
    expect(await bindings.holds('alice', alice)).toBe(false);

    expect(await bindings.claim('alice', alice)).toBe(true);
    await sessions.start(signIn());
    const moved = (await call('POST', '/admin/accounts/release', {account: 'alice', to: bob})).json();
    expect(moved).toMatchObject({from: alice, to: bob, ended: 1});
    expect(await bindings.holds('alice', bob)).toBe(true);
    expect(await bindings.claim('alice', alice)).toBe(false);
  });

  it('answers 404 for a name nobody holds, and 400 for a new holder without a subject', async () => {
    const {call} = adminApp();
    const unknown = await call('POST', '/admin/accounts/release', {account: 'nobody'});
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({error: 'unknown_account'});
    expect((await call('POST', '/admin/accounts/release', {account: 'alice', to: {issuer: alice.issuer}})).statusCode).toBe(400);
  });
});
