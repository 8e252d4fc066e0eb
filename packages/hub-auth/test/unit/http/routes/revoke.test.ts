import {decodeJwt} from 'jose';
import {describe, expect, it} from 'vitest';
import {tokenRevocationUrl} from '@hub/protocol/identity-token';
import {signInSessions} from '../../../../src/sessions/sessions.js';
import {StoreUnavailableError} from '../../../../src/store/sql.js';
import {config, service, store} from './token-service.js';

/** Where hub sends a revocation: derived from the realm, as hub derives it. */
const REVOKE = tokenRevocationUrl('http://127.0.0.1:5001/token').pathname;

async function signedIn(username: string) {
  const hub = service({[`${username}-token`]: {username}});
  const identity = (await hub.get(`${username}-token`, `repository:${username}/app:pull`, '&offline_token=true')).body.refresh_token!;
  const revokedReason = async () =>
    (await store.query<{revoked_reason: string | null}>('SELECT revoked_reason FROM sessions WHERE id = $1', [decodeJwt(identity).sid]))[0]
      ?.revoked_reason;
  return {hub, identity, revokedReason};
}

describe('POST /revoke (RFC 7009) for hub-auth’s identity tokens', () => {
  it('ends the session of the token given: a copy taken before is refused, with what to do', async () => {
    const {hub, identity, revokedReason} = await signedIn('olga');
    const answer = await hub.post(REVOKE, {token: identity, token_type_hint: 'refresh_token'});
    expect(answer).toMatchObject({status: 200, headers: {'cache-control': 'no-store'}});
    expect(await revokedReason()).toBe('logged out');
    expect(await hub.refresh(identity, 'repository:olga/app:pull')).toMatchObject({
      status: 401,
      body: {
        error: 'invalid_grant',
        error_description: expect.stringContaining('ended (logged out): sign in again (hub login, or docker login)'),
      },
    });
    expect(hub.lines.find((line) => line.event === 'revoke')).toMatchObject({ended: 1, msg: 'session ended: logged out'});
    expect(JSON.stringify(hub.lines)).not.toContain(identity);
  });

  it('ends the session of an expired token too: it still names its session', async () => {
    const {hub, identity, revokedReason} = await signedIn('pia');
    hub.tick(config.refreshTokens.lifetimeSeconds + 1);
    expect((await hub.post(REVOKE, {token: identity})).status).toBe(200);
    expect(await revokedReason()).toBe('logged out');
  });

  it('answers 200 for a token that is not one of ours, or not valid, and ends nothing (§2.2)', async () => {
    const {hub, identity, revokedReason} = await signedIn('quinn');
    const registryToken = (await hub.get('quinn-token', 'repository:quinn/app:pull')).body.token!;
    const [header, payload] = identity.split('.');
    for (const token of ['not-a-token', 'quinn-token', registryToken, `${header}.${payload}.AAAA`]) {
      expect((await hub.post(REVOKE, {token, token_type_hint: 'access_token'})).status, token).toBe(200);
    }
    expect(await revokedReason()).toBeNull();
  });

  it('refuses a form without the token with 400 invalid_request, and a body past its bound with 413', async () => {
    const {hub} = await signedIn('rosa');
    expect(await hub.post(REVOKE, {token_type_hint: 'refresh_token'})).toMatchObject({
      status: 400,
      body: {error: 'invalid_request', error_description: expect.stringContaining('"token"')},
    });
    const twice = await hub.app.inject({
      method: 'POST',
      url: REVOKE,
      payload: 'token=a&token=b',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
    });
    expect(twice.statusCode).toBe(400);
    expect((await hub.post(REVOKE, {token: 'x'.repeat(11 * 1024)})).status).toBe(413);
  });

  it('answers 503 with Retry-After when the store cannot answer: a logout is never said to be done when it was not', async () => {
    const {identity} = await signedIn('sara');
    const hub = service(
      {},
      {
        sessions: {
          ...signInSessions(store),
          revoke: async () => {
            throw new StoreUnavailableError('the store cannot answer: connection refused');
          },
        },
      },
    );
    expect(await hub.post(REVOKE, {token: identity})).toMatchObject({
      status: 503,
      headers: {'retry-after': '5', 'cache-control': 'no-store'},
      body: {error: 'temporarily_unavailable'},
    });
  });
});
