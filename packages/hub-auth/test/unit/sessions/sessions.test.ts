import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {signInSessions, type Sessions, type SessionStart} from '../../../src/sessions/sessions.js';
import {checkSession} from '../../../src/sessions/session-check.js';
import {sessionChanges} from '../../../src/sessions/session-changes.js';
import type {Store} from '../../../src/store/open-store.js';
import {BACKENDS, closeStores, countingStatements, emptied} from '../../stores.js';

const alice = {issuer: 'https://id.example', subject: 'sub-alice'};
const bob = {issuer: 'https://id.example', subject: 'sub-bob'};
const NOW = 1_900_000_000;

function signIn(holder = alice, overrides: Partial<SessionStart> = {}): SessionStart {
  return {
    holder,
    account: holder === alice ? 'alice' : 'bob',
    groups: ['dev'],
    client: 'hub',
    address: '127.0.0.1',
    nowSeconds: NOW,
    expiresAt: NOW + 8 * 3600,
    ...overrides,
  };
}

describe.each(BACKENDS)('sign-in sessions on $kind PostgreSQL', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.fresh();
  });
  afterAll(async () => store?.close());

  it('finds a session by its identity token, with what it signed in with', async () => {
    const sessions = signInSessions(await emptied(store));
    const issued = await sessions.start(signIn(alice, {providerSession: 'sid-1'}));
    const session = await sessions.ofToken(issued.tokenId);
    expect(session).toMatchObject({
      id: issued.sessionId,
      holder: alice,
      account: 'alice',
      groups: ['dev'],
      client: 'hub',
      address: '127.0.0.1',
      providerSession: 'sid-1',
      createdAt: NOW,
      checkedAt: NOW,
      lastUsedAt: NOW,
      expiresAt: NOW + 8 * 3600,
      revoked: null,
    });
    expect(await sessions.ofToken('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(checkSession(session, NOW + 10, 3600).ok).toBe(true);
  });

  it('ends every identity token of a session, and only that session', async () => {
    const sessions = signInSessions(await emptied(store));
    const first = await sessions.start(signIn());
    const second = await sessions.extend(first.sessionId, alice, ['dev'], NOW + 60, NOW + 9 * 3600);
    const other = await sessions.start(signIn());
    expect(second?.sessionId).toBe(first.sessionId);
    const ended = await sessions.revoke({session: first.sessionId}, 'logged out (hub logout)', NOW + 120);
    expect(ended.map((session) => session.id)).toEqual([first.sessionId]);
    for (const token of [first.tokenId, second!.tokenId]) {
      const verdict = checkSession(await sessions.ofToken(token), NOW + 121, 3600);
      expect(verdict).toMatchObject({ok: false, reason: 'revoked'});
      expect(verdict.ok || verdict.message).toContain('logged out (hub logout)');
    }
    expect(checkSession(await sessions.ofToken(other.tokenId), NOW + 121, 3600).ok).toBe(true);
    // An ended session is not continued: the caller starts a new one.
    expect(await sessions.extend(first.sessionId, alice, ['dev'], NOW + 180, NOW + 9 * 3600)).toBeUndefined();
  });

  it('does not continue another person’s session', async () => {
    const sessions = signInSessions(await emptied(store));
    const issued = await sessions.start(signIn());
    expect(await sessions.extend(issued.sessionId, bob, ['dev'], NOW + 60, NOW + 9 * 3600)).toBeUndefined();
  });

  it('revokes by account, by person and by provider session', async () => {
    const sessions = signInSessions(await emptied(store));
    const a1 = await sessions.start(signIn(alice, {providerSession: 'sid-a1'}));
    const a2 = await sessions.start(signIn(alice, {providerSession: 'sid-a2'}));
    const b = await sessions.start(signIn(bob));
    const bySid = await sessions.revoke({issuer: alice.issuer, providerSession: 'sid-a1'}, 'provider logout', NOW + 1);
    expect(bySid.map((s) => s.id)).toEqual([a1.sessionId]);
    const byPerson = await sessions.revoke({issuer: alice.issuer, subject: alice.subject}, 'provider logout', NOW + 2);
    expect(byPerson.map((s) => s.id)).toEqual([a2.sessionId]);
    expect(await sessions.revoke({account: 'alice'}, 'again', NOW + 3)).toEqual([]);
    expect((await sessions.revoke({account: 'bob'}, 'operator', NOW + 4)).map((s) => s.id)).toEqual([b.sessionId]);
    const events = await store.query<{kind: string; reason: string}>("SELECT kind, detail->>'reason' AS reason FROM events ORDER BY id");
    expect(events.map((e) => e.kind)).toEqual(['sign-in', 'sign-in', 'sign-in', 'revoke', 'revoke', 'revoke']);
    expect(events.slice(3).map((e) => e.reason)).toEqual(['provider logout', 'provider logout', 'operator']);
  });

  it('stops a session not re-checked within the window, and a re-check brings the groups', async () => {
    const sessions = signInSessions(await emptied(store));
    const issued = await sessions.start(signIn());
    const late = checkSession(await sessions.ofToken(issued.tokenId), NOW + 3601, 3600);
    expect(late).toMatchObject({ok: false, reason: 'not rechecked'});
    expect(late.ok || late.message).toContain('more than 1 h ago');
    await sessions.recheck(alice, ['ops'], NOW + 3000);
    const after = await sessions.ofToken(issued.tokenId);
    expect(after).toMatchObject({checkedAt: NOW + 3000, groups: ['ops']});
    expect(checkSession(after, NOW + 3601, 3600).ok).toBe(true);
  });

  it('writes a re-check with unchanged groups once a minute per instance, and changed groups at once', async () => {
    const sessions = signInSessions(await emptied(store), {touchEverySeconds: 60});
    const issued = await sessions.start(signIn());
    await sessions.recheck(alice, ['dev'], NOW + 10);
    await sessions.recheck(alice, ['dev'], NOW + 30);
    expect((await sessions.ofToken(issued.tokenId))?.checkedAt).toBe(NOW + 10);
    await sessions.recheck(alice, [], NOW + 40);
    expect(await sessions.ofToken(issued.tokenId)).toMatchObject({checkedAt: NOW + 40, groups: []});
  });

  it('records the last use at most once a minute', async () => {
    const sessions = signInSessions(await emptied(store), {touchEverySeconds: 60});
    const issued = await sessions.start(signIn());
    await sessions.touch(issued.sessionId, NOW + 100);
    await sessions.touch(issued.sessionId, NOW + 130);
    expect((await sessions.ofToken(issued.tokenId, {fresh: true}))?.lastUsedAt).toBe(NOW + 100);
    await sessions.touch(issued.sessionId, NOW + 170);
    expect((await sessions.ofToken(issued.tokenId, {fresh: true}))?.lastUsedAt).toBe(NOW + 170);
  });

  it("makes one write for a burst of one person's re-checks, and one for a burst of a session's uses", async () => {
    const {store: counted, sent} = countingStatements(await emptied(store));
    const sessions = signInSessions(counted, {touchEverySeconds: 60});
    const issued = await sessions.start(signIn());
    await Promise.all(Array.from({length: 20}, () => sessions.recheck(alice, ['dev'], NOW + 10)));
    await Promise.all(Array.from({length: 20}, () => sessions.touch(issued.sessionId, NOW + 10)));
    expect(sent(/SET checked_at/)).toBe(1);
    expect(sent(/SET last_used_at/)).toBe(1);
    expect(await sessions.ofToken(issued.tokenId, {fresh: true})).toMatchObject({checkedAt: NOW + 10, lastUsedAt: NOW + 10});
  });

  it('lists live sessions, newest first, of one account when asked', async () => {
    const sessions = signInSessions(await emptied(store));
    const a = await sessions.start(signIn(alice, {nowSeconds: NOW}));
    const b = await sessions.start(signIn(bob, {nowSeconds: NOW + 5}));
    const gone = await sessions.start(signIn(alice, {nowSeconds: NOW + 10}));
    await sessions.revoke({session: gone.sessionId}, 'operator', NOW + 11);
    expect((await sessions.list()).map((s) => s.id)).toEqual([b.sessionId, a.sessionId]);
    expect((await sessions.list({account: 'alice'})).map((s) => s.id)).toEqual([a.sessionId]);
  });

  it('keeps no token in the store: ids only', async () => {
    const sessions = signInSessions(await emptied(store));
    await sessions.start(signIn());
    const columns = await store.query<{column_name: string}>(
      "SELECT column_name FROM information_schema.columns WHERE table_name IN ('sessions', 'identity_tokens', 'events')",
    );
    expect(columns.map((c) => c.column_name).filter((name) => /token|secret|password/.test(name))).toEqual([]);
  });
});

/** What "at once, on every instance" means here: the answer is asked for again until it holds, for at most a second. */
const WITHIN_A_SECOND = {timeout: 1000, interval: 5};

/**
 * Reads until `sessions` answers from memory (it hears the database a moment after it is made): a
 * by-hand change of the address, which no decision reads and nobody is told of, is then not seen.
 */
async function remembering(sessions: Sessions, store: Store, tokenId: string): Promise<void> {
  for (let round = 0; round < 200; round++) {
    await sessions.ofToken(tokenId);
    await store.query('UPDATE sessions SET address = $1', [`10.0.0.${round}`]);
    if ((await sessions.ofToken(tokenId))?.address !== `10.0.0.${round}`) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the sessions never answered from memory');
}

describe.each(BACKENDS)('what an instance remembers of sessions, on $kind PostgreSQL', (backend) => {
  let here: Store;
  let there: Store;
  beforeAll(async () => {
    [here, there] = await backend.twice();
  });
  afterAll(() => closeStores([here, there]));

  it('answers from memory until a session changes at another instance, then reads it anew', async () => {
    const atHere = signInSessions(await emptied(here));
    const atThere = signInSessions(there);
    const issued = await atHere.start(signIn());
    await remembering(atThere, here, issued.tokenId);
    expect(await atThere.ofToken(issued.tokenId)).toMatchObject({revoked: null});

    await atHere.revoke({account: 'alice'}, 'operator', NOW + 5);
    await expect
      .poll(async () => (await atThere.ofToken(issued.tokenId))?.revoked, WITHIN_A_SECOND)
      .toEqual({at: NOW + 5, reason: 'operator'});
  });

  it('hears changed groups, by a re-check or by hand, and a deleted session', async () => {
    const atHere = signInSessions(await emptied(here));
    const atThere = signInSessions(there);
    const issued = await atHere.start(signIn());
    await remembering(atThere, here, issued.tokenId);
    await atHere.recheck(alice, ['ops'], NOW + 10);
    await expect.poll(() => atThere.ofToken(issued.tokenId), WITHIN_A_SECOND).toMatchObject({groups: ['ops']});
    await here.query("UPDATE sessions SET groups = '{}'");
    await expect.poll(() => atThere.ofToken(issued.tokenId), WITHIN_A_SECOND).toMatchObject({groups: []});
    await here.query('DELETE FROM sessions');
    await expect.poll(() => atThere.ofToken(issued.tokenId), WITHIN_A_SECOND).toBeUndefined();
  });

  it('an instance that revokes forgets at once, before the database tells it', async () => {
    const sessions = signInSessions(await emptied(here));
    const issued = await sessions.start(signIn());
    await sessions.ofToken(issued.tokenId);
    await sessions.revoke({session: issued.sessionId}, 'logged out', NOW + 1);
    expect((await sessions.ofToken(issued.tokenId))?.revoked).not.toBeNull();
  });

  it.runIf(backend.kind === 'server')('remembers nothing while it cannot hear the changes, and says so', async () => {
    const unheard: string[] = [];
    const atHere = signInSessions(await emptied(here));
    const atThere = signInSessions(there, {changes: sessionChanges(there, (reason) => unheard.push(reason))});
    const issued = await atHere.start(signIn());
    await remembering(atThere, here, issued.tokenId);

    await here.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hub-auth listener'");
    await expect.poll(() => unheard.length, WITHIN_A_SECOND).toBeGreaterThan(0);
    expect(unheard[0]).toMatch(/terminat/);
    // Changed while nobody listens: no word of it will ever come, and the row is read anew all the same.
    await here.query("UPDATE sessions SET groups = '{ops}'");
    expect(await atThere.ofToken(issued.tokenId)).toMatchObject({groups: ['ops']});

    // Listening again (a second later): remembered, and told, as before.
    await remembering(atThere, here, issued.tokenId);
    await here.query("UPDATE sessions SET groups = '{qa}'");
    await expect.poll(() => atThere.ofToken(issued.tokenId), WITHIN_A_SECOND).toMatchObject({groups: ['qa']});
  });
});
