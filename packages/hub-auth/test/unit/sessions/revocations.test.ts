import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {accountBindings} from '../../../src/accounts/bindings.js';
import {revocations} from '../../../src/sessions/revocations.js';
import {signInSessions} from '../../../src/sessions/sessions.js';
import {webSessions} from '../../../src/sessions/web-sessions.js';
import type {Store} from '../../../src/store/open-store.js';
import {BACKENDS, emptied} from '../../stores.js';

const alice = {issuer: 'https://id.example', subject: 'sub-alice', account: 'alice', groups: ['dev']};
const bob = {issuer: 'https://id.example', subject: 'sub-bob', account: 'bob', groups: []};
const carol = {issuer: 'https://id.example', subject: 'sub-carol'};
const NOW = 1_900_000_000;

describe.each(BACKENDS)("ending a person's access on $kind PostgreSQL", (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.fresh();
  });
  afterAll(async () => store?.close());

  async function signedIn() {
    const sessions = signInSessions(await emptied(store));
    const web = webSessions(store);
    const signIn = async (person: typeof alice, webId: string) => {
      await web.create({idHash: webId, person, providerSession: undefined, nowSeconds: NOW, expiresAt: NOW + 3600});
      return sessions.start({...person, holder: person, client: 'hub', address: '127.0.0.1', nowSeconds: NOW, expiresAt: NOW + 3600});
    };
    return {
      sessions,
      web,
      ends: revocations(store, sessions, web),
      issued: {alice: await signIn(alice, 'web-alice'), bob: await signIn(bob, 'web-bob')},
    };
  }

  for (const [what, target] of [
    ['an account', {account: 'alice'}],
    ['a person', {issuer: alice.issuer, subject: alice.subject}],
  ] as const) {
    it(`revoking ${what} ends their identity tokens and their web sessions, and nobody else's`, async () => {
      const {sessions, web, ends, issued} = await signedIn();
      const ended = await ends.revoke(target, 'revoked by the operator', NOW + 10);
      expect(ended.map((session) => session.id)).toEqual([issued.alice.sessionId]);
      expect(await web.find('web-alice', NOW + 11)).toBeUndefined();
      expect((await sessions.ofToken(issued.alice.tokenId, {fresh: true}))?.revoked?.reason).toBe('revoked by the operator');
      expect(await web.find('web-bob', NOW + 11)).toEqual(bob);
      expect((await sessions.ofToken(issued.bob.tokenId, {fresh: true}))?.revoked).toBeNull();
    });
  }

  it("revoking one sign-in session (hub's logout, the operator's --session) leaves the person's web sessions", async () => {
    const {web, ends, issued} = await signedIn();
    expect(await ends.revoke({session: issued.alice.sessionId}, 'logged out', NOW + 10)).toHaveLength(1);
    expect(await web.find('web-alice', NOW + 11)).toEqual(alice);
  });

  it("releasing a name ends its old holder's web sessions in the same step: their browser no longer shows the name's images", async () => {
    const {web, ends} = await signedIn();
    const bindings = accountBindings(store);
    await bindings.claim('alice', alice);
    await bindings.release('alice', carol, ends, NOW + 10);
    expect(await web.find('web-alice', NOW + 11)).toBeUndefined();
    expect(await web.find('web-bob', NOW + 11)).toEqual(bob);
  });
});
