import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {webSessions} from '../../../src/sessions/web-sessions.js';
import type {Store} from '../../../src/store/open-store.js';
import {BACKENDS, closeStores, countingStatements, emptied} from '../../stores.js';

const alice = {issuer: 'https://id.example', subject: 'sub-alice', account: 'alice', groups: ['dev']};
const bob = {issuer: 'https://id.example', subject: 'sub-bob', account: 'bob', groups: []};
const NOW = 1_900_000_000;

describe.each(BACKENDS)('web sessions on $kind PostgreSQL', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.fresh();
  });
  afterAll(async () => store?.close());

  const start = (sessions: ReturnType<typeof webSessions>, idHash: string, person = alice, providerSession?: string) =>
    sessions.create({idHash, person, providerSession, nowSeconds: NOW, expiresAt: NOW + 3600});

  it('finds a live session by the hash of its id, with the person as signed in, until it expires', async () => {
    const sessions = webSessions(await emptied(store));
    await start(sessions, 'hash-1');
    expect(await sessions.find('hash-1', NOW + 10)).toEqual(alice);
    expect(await sessions.find('hash-2', NOW + 10)).toBeUndefined();
    expect(await sessions.find('hash-1', NOW + 3600)).toBeUndefined();
  });

  it('stores no session id: only the hash it was given, and no token column', async () => {
    const sessions = webSessions(await emptied(store));
    await start(sessions, 'hash-1');
    const columns = await store.query<{column_name: string}>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'web_sessions' ORDER BY column_name",
    );
    expect(columns.map((row) => row.column_name)).not.toContain('token');
    expect(columns.map((row) => row.column_name).filter((name) => /token|secret|id$/.test(name))).toEqual([]);
  });

  it('a sign-out ends that session only', async () => {
    const sessions = webSessions(await emptied(store));
    await start(sessions, 'hash-1');
    await start(sessions, 'hash-2');
    await sessions.end('hash-1', NOW + 5);
    expect(await sessions.find('hash-1', NOW + 10)).toBeUndefined();
    expect(await sessions.find('hash-2', NOW + 10)).toEqual(alice);
  });

  it("a back-channel logout ends that provider session's web sessions, or all of the person's", async () => {
    const sessions = webSessions(await emptied(store));
    await start(sessions, 'a-1', alice, 'sid-1');
    await start(sessions, 'a-2', alice, 'sid-2');
    await start(sessions, 'b-1', bob, 'sid-3');
    expect(await sessions.endFor({issuer: alice.issuer, subject: alice.subject, providerSession: 'sid-1'}, 'logout', NOW + 5)).toBe(1);
    expect(await sessions.find('a-1', NOW + 10)).toBeUndefined();
    expect(await sessions.find('a-2', NOW + 10)).toEqual(alice);
    expect(await sessions.endFor({issuer: alice.issuer, subject: alice.subject}, 'logout', NOW + 5)).toBe(1);
    expect(await sessions.find('a-2', NOW + 10)).toBeUndefined();
    expect(await sessions.find('b-1', NOW + 10)).toEqual(bob);
  });
});

/** What "at once, on every instance" means here: the answer is asked for again until it holds, for at most a second. */
const WITHIN_A_SECOND = {timeout: 1000, interval: 5};

describe.each(BACKENDS)('what an instance remembers of web sessions, on $kind PostgreSQL', (backend) => {
  let here: Store;
  let there: Store;
  beforeAll(async () => {
    [here, there] = await backend.twice();
  });
  afterAll(() => closeStores([here, there]));

  /** Web sessions at a second instance, and how many times they read a session's row. */
  const atAnotherInstance = () => {
    const {store, sent} = countingStatements(there);
    return {sessions: webSessions(store), reads: () => sent(/FROM web_sessions/)};
  };

  /** Asks until `find` answers from memory (the instance hears the database a moment after it starts). */
  const remembered = async (instance: ReturnType<typeof atAnotherInstance>, idHash: string) => {
    await expect
      .poll(async () => {
        const before = instance.reads();
        await instance.sessions.find(idHash, NOW + 10);
        return instance.reads() - before;
      }, WITHIN_A_SECOND)
      .toBe(0);
  };

  it('a page reads its session once, then from memory, until a session changes anywhere', async () => {
    const atHere = webSessions(await emptied(here));
    const atThere = atAnotherInstance();
    for (const idHash of ['signs-out', 'ended-by-hand', 'deleted', 'logged-out']) {
      await atHere.create({idHash, person: alice, providerSession: 'sid-1', nowSeconds: NOW, expiresAt: NOW + 3600});
      await remembered(atThere, idHash);
    }
    // Remembered, and still not past its expiry.
    expect(await atThere.sessions.find('signs-out', NOW + 3600)).toBeUndefined();

    await atHere.end('signs-out', NOW + 20);
    await expect.poll(() => atThere.sessions.find('signs-out', NOW + 21), WITHIN_A_SECOND).toBeUndefined();
    await here.query("UPDATE web_sessions SET ended_at = now() WHERE id_hash = 'ended-by-hand'");
    await expect.poll(() => atThere.sessions.find('ended-by-hand', NOW + 21), WITHIN_A_SECOND).toBeUndefined();
    await here.query("DELETE FROM web_sessions WHERE id_hash = 'deleted'");
    await expect.poll(() => atThere.sessions.find('deleted', NOW + 21), WITHIN_A_SECOND).toBeUndefined();
    await atHere.endFor({issuer: alice.issuer, subject: alice.subject}, 'back-channel logout', NOW + 30);
    await expect.poll(() => atThere.sessions.find('logged-out', NOW + 31), WITHIN_A_SECOND).toBeUndefined();
  });
});
