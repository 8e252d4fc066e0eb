import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Writable} from 'node:stream';
import {exportJWK, generateKeyPair, SignJWT, type CryptoKey} from 'jose';
import {pino} from 'pino';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {parseConfig} from '../../../../src/config.js';
import {createTokenService} from '../../../../src/http/service.js';
import {BACKCHANNEL_LOGOUT_PATH} from '@hub/protocol/hub-auth-endpoints';
import {BACKCHANNEL_LOGOUT_EVENT} from '../../../../src/oidc/logout-token-checks.js';
import {signInSessions} from '../../../../src/sessions/sessions.js';
import {openStore, type Store} from '../../../../src/store/open-store.js';
import {generateSigningMaterial} from '../../../../src/tokens/keygen.js';
import {BACKENDS, closeStores, emptied, recordingLogger, storeConfig} from '../../../stores.js';

/**
 * The back-channel logout route as an identity provider and an attacker reach it: hub-auth's own
 * wiring (createTokenService) on a store, against a provider that publishes its keys over HTTP.
 */

const material = await generateSigningMaterial({algorithm: 'ES256', commonName: 'hub-auth logout test', days: 30});
const providerKey = await generateKeyPair('RS256', {extractable: true});
const attackerKey = await generateKeyPair('RS256', {extractable: true});
const PROVIDER_KID = 'provider-key';
const now = () => Math.floor(Date.now() / 1000);

let provider: Server;
let issuer: string;

beforeAll(async () => {
  const jwks = {keys: [{...(await exportJWK(providerKey.publicKey)), kid: PROVIDER_KID, alg: 'RS256', use: 'sig'}]};
  provider = createServer((request, response) => {
    const body =
      request.url === '/.well-known/openid-configuration'
        ? {issuer, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`}
        : request.url === '/jwks'
          ? jwks
          : undefined;
    response.writeHead(body ? 200 : 404, {'content-type': 'application/json'}).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => provider.close(() => resolve())));

/** A logout token as oidc-provider sends one, with these claims changed (undefined: left out), signed by `key`. */
function logoutToken(
  claims: Record<string, unknown> = {},
  {
    key = providerKey.privateKey,
    kid = PROVIDER_KID,
    typ = 'logout+jwt',
    alg = 'RS256',
  }: {key?: CryptoKey | Uint8Array; kid?: string; typ?: string; alg?: string} = {},
) {
  const all: Record<string, unknown> = {
    iss: issuer,
    aud: 'hub-cli',
    iat: now(),
    exp: now() + 120,
    jti: `jti-${Math.random()}`,
    sub: 'sub-alice',
    events: {[BACKCHANNEL_LOGOUT_EVENT]: {}},
    ...claims,
  };
  for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name];
  return new SignJWT(all).setProtectedHeader({alg, kid, typ}).sign(key);
}

/** One hub-auth instance on `store`, and its log lines. */
async function instance(store: Store, settings: {client?: Record<string, unknown>; oidc?: Record<string, unknown>} = {}) {
  const lines: Array<Record<string, unknown> & {msg: string}> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown> & {msg: string});
      done();
    },
  });
  const config = parseConfig({
    service: 'hub-registry',
    signing: {key: {value: material.privateKeyPem}, certificate: {value: material.certificatePem}},
    oidc: {issuer, ...settings.oidc},
    client: {clientId: 'hub-cli', ...settings.client},
    registry: {host: 'registry.example.com'},
  });
  const service = await createTokenService(config, store, pino({level: 'info'}, logStream));
  const post = async (form: Record<string, string>) => {
    const response = await service.app.inject({
      method: 'POST',
      url: BACKCHANNEL_LOGOUT_PATH,
      payload: new URLSearchParams(form).toString(),
      headers: {'content-type': 'application/x-www-form-urlencoded'},
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.body ? (JSON.parse(response.body) as Record<string, string>) : undefined,
    };
  };
  return {...service, lines, post, logout: async (token: string) => post({logout_token: token})};
}

describe.each(BACKENDS)('back-channel logout on $kind PostgreSQL', (backend) => {
  let stores: [Store, Store];
  let one: Awaited<ReturnType<typeof instance>>;
  let two: Awaited<ReturnType<typeof instance>>;
  beforeAll(async () => {
    stores = await backend.twice();
    [one, two] = (await Promise.all(stores.map((store) => instance(store)))) as [typeof one, typeof two];
  });
  afterAll(async () => {
    await closeStores(stores);
  });

  /** alice's sessions: two signed in through provider session sid-1 and sid-2, one whose tokens carried no sid; and bob's. */
  async function signedIn() {
    const sessions = signInSessions(await emptied(stores[0]));
    const start = (subject: string, providerSession?: string) =>
      sessions.start({
        holder: {issuer, subject},
        account: subject.slice(4),
        groups: [],
        client: 'hub',
        address: '127.0.0.1',
        providerSession,
        nowSeconds: now(),
        expiresAt: now() + 3600,
      });
    const ids = {
      sid1: (await start('sub-alice', 'sid-1')).sessionId,
      sid2: (await start('sub-alice', 'sid-2')).sessionId,
      unrecorded: (await start('sub-alice')).sessionId,
      bob: (await start('sub-bob', 'sid-b')).sessionId,
    };
    const live = async () => new Set((await sessions.list()).map((session) => session.id));
    return {ids, live, start: async (subject: string) => (await start(subject)).sessionId};
  }

  it('ends the sessions of the person it names, answers 200 with no-store, logs and counts it', async () => {
    const {ids, live} = await signedIn();
    const token = await logoutToken({sub: 'sub-alice'});
    const answer = await one.logout(token);
    expect(answer).toMatchObject({status: 200, body: undefined});
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(await live()).toEqual(new Set([ids.bob]));
    const line = one.lines.find((entry) => entry.event === 'backchannel logout');
    expect(line).toMatchObject({outcome: 'accepted', subject: 'sub-alice', ended: 3, accounts: ['alice']});
    expect(JSON.stringify(one.lines)).not.toContain(token);
    expect(await one.metrics.text()).toMatch(/hub_auth_backchannel_logouts_total\{outcome="accepted"\} \d+/);
  });

  it('with a sid only, ends that provider session; with sub and sid, that one and those whose provider session hub-auth does not know', async () => {
    const {ids, live} = await signedIn();
    expect((await one.logout(await logoutToken({sub: undefined, sid: 'sid-2'}))).status).toBe(200);
    expect(await live()).toEqual(new Set([ids.sid1, ids.unrecorded, ids.bob]));
    expect((await one.logout(await logoutToken({sub: 'sub-alice', sid: 'sid-1'}))).status).toBe(200);
    expect(await live()).toEqual(new Set([ids.bob]));
  });

  it('accepts a jti once across instances: the replay at the other instance is refused and ends nothing', async () => {
    const {ids, live, start} = await signedIn();
    const token = await logoutToken({sub: 'sub-bob'});
    expect((await one.logout(token)).status).toBe(200);
    // bob signs in again, and a token seen before (at either instance) must not end that session.
    const again = await start('sub-bob');
    await stores[0].query('INSERT INTO logout_tokens (issuer, jti, expires_at) VALUES ($1, $2, to_timestamp($3))', [
      issuer,
      'seen',
      now() + 60,
    ]);
    for (const replayed of [token, await logoutToken({jti: 'seen', sub: 'sub-alice'})]) {
      const answer = await two.logout(replayed);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: 'invalid_request',
        error_description: 'the logout token was used before (its jti was seen already): it ends nothing again',
      });
    }
    expect(await live()).toEqual(new Set([ids.sid1, ids.sid2, ids.unrecorded, again]));
    expect(two.lines.find((entry) => entry.outcome === 'refused')?.msg).toBe('back-channel logout refused: it ended nothing');
  });

  it('prunes the jti of expired logout tokens', async () => {
    await emptied(stores[0]);
    await stores[0].query('INSERT INTO logout_tokens (issuer, jti, expires_at) VALUES ($1, $2, to_timestamp($3))', [
      issuer,
      'old',
      now() - 3600,
    ]);
    expect((await one.logout(await logoutToken())).status).toBe(200);
    expect(await stores[0].query('SELECT jti FROM logout_tokens WHERE jti = $1', ['old'])).toEqual([]);
  });

  it.each([
    [
      "a forged signature (the attacker's key under the provider's key id)",
      () => logoutToken({}, {key: attackerKey.privateKey}),
      'the token signature is not valid',
    ],
    [
      'a key the provider does not publish',
      () => logoutToken({}, {key: attackerKey.privateKey, kid: 'attacker'}),
      'the token is signed by a key the identity provider does not publish',
    ],
    [
      "HS256 with the provider's public key as the secret (algorithm confusion)",
      async () => logoutToken({}, {alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(await exportJWK(providerKey.publicKey)))}),
      'signed with an algorithm that is not allowed',
    ],
    ['another issuer', () => logoutToken({iss: 'https://evil.example'}), 'from another issuer'],
    ['another audience', () => logoutToken({aud: 'another-app'}), "not for this service's clients"],
    ['no events claim', () => logoutToken({events: undefined}), 'events claim has no'],
    ['a nonce (an ID token)', () => logoutToken({nonce: 'abc'}), 'it is an ID token'],
    ['neither sub nor sid', () => logoutToken({sub: undefined, sid: undefined}), 'neither a subject (sub) nor a session (sid)'],
    ['an expired token', () => logoutToken({iat: now() - 600, exp: now() - 300}), 'the logout token has expired'],
    ['another typ (an access token)', () => logoutToken({}, {typ: 'at+jwt'}), 'not a logout token'],
  ])('refuses %s with 400 and a JSON error, and ends nothing', async (_what, make, reason) => {
    const {ids, live} = await signedIn();
    const answer = await one.logout(await make());
    expect(answer.status).toBe(400);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body?.error).toBe('invalid_request');
    expect(answer.body?.error_description).toContain(reason);
    expect(await live()).toEqual(new Set(Object.values(ids)));
  });

  it('refuses a request without a logout_token, or not a JWT', async () => {
    expect((await one.post({})).body?.error_description).toBe(
      'the request has no logout_token (one form field, application/x-www-form-urlencoded)',
    );
    expect((await one.logout('not-a-jwt')).body?.error_description).toContain('not a valid JWT');
  });
});

it('answers 503 when the store cannot answer, so that the provider sends the logout again', async () => {
  // A PostgreSQL server that is not there: every query fails as in an outage.
  const store = await openStore(
    storeConfig({url: 'postgresql://hub:unused@127.0.0.1:1/hub', statementTimeoutSeconds: 1}),
    recordingLogger(),
  );
  const service = await instance(store);
  const answer = await service.logout(await logoutToken());
  await store.close();
  expect(answer.status).toBe(503);
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(answer.body?.error).toBe('temporarily_unavailable');
  expect(service.lines.find((entry) => entry.outcome === 'unavailable')?.msg).toBe(
    'back-channel logout not acted on now: answered 503, the identity provider sends it again',
  );
  expect(await service.metrics.text()).toContain('hub_auth_backchannel_logouts_total{outcome="unavailable"} 1');
});

it("takes logout tokens for hub's clients (client.clientId, client.deviceClientId), or for those oidc.backchannelLogout.clientIds names", async () => {
  const store = await BACKENDS[0]!.fresh();
  const withDevice = await instance(store, {client: {deviceClientId: 'hub-device'}});
  const named = await instance(store, {oidc: {backchannelLogout: {clientIds: ['hub-web']}}});
  const statuses = async (service: typeof named) =>
    Promise.all(['hub-cli', 'hub-device', 'hub-web'].map(async (aud) => (await service.logout(await logoutToken({aud}))).status));
  expect(await statuses(withDevice)).toEqual([200, 200, 400]);
  expect(await statuses(named)).toEqual([400, 400, 200]);
  await store.close();
});
