import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {accountBindings} from '../../../src/accounts/bindings.js';
import {signInSessions, type SessionStart} from '../../../src/sessions/sessions.js';
import type {Store} from '../../../src/store/open-store.js';
import {BACKENDS, closeStores, emptied} from '../../stores.js';

const alice = {issuer: 'https://id.example', subject: 'sub-alice'};
const carol = {issuer: 'https://id.example', subject: 'sub-carol'};
const NOW = 1_900_000_000;

function signIn(account: string, holder = alice): SessionStart {
  return {holder, account, groups: [], client: 'docker', address: '127.0.0.1', nowSeconds: NOW, expiresAt: NOW + 3600};
}

describe.each(BACKENDS)('releasing an account name on $kind PostgreSQL', (backend) => {
  let one: Store;
  let two: Store;
  beforeAll(async () => {
    [one, two] = await backend.twice();
  });
  afterAll(() => closeStores([one, two]));

  it('frees the name and ends every session of it, and only of it, in one step', async () => {
    const sessions = signInSessions(await emptied(one));
    const bindings = accountBindings(one);
    expect(await bindings.claim('alice', alice)).toBe(true);
    expect(await bindings.claim('alice-ci', alice)).toBe(true);
    const ofName = [await sessions.start(signIn('alice')), await sessions.start(signIn('alice'))];
    const kept = await sessions.start(signIn('alice-ci'));
    const released = await bindings.release('alice', undefined, sessions, NOW + 10);
    expect(released?.from).toEqual(alice);
    expect(released?.endedSessions.sort()).toEqual(ofName.map((issued) => issued.sessionId).sort());
    expect((await sessions.ofToken(ofName[0]!.tokenId))?.revoked).toEqual({at: NOW + 10, reason: 'account name released'});
    expect((await sessions.ofToken(kept.tokenId))?.revoked).toBeNull();
    const [event] = await one.query<{account: string; subject: string; detail: {to: null; endedSessions: number}}>(
      "SELECT account, subject, detail FROM events WHERE kind = 'release'",
    );
    expect(event).toEqual({account: 'alice', subject: alice.subject, detail: {to: null, endedSessions: 2}});
    expect(await bindings.release('alice', undefined, sessions, NOW + 20)).toBeUndefined();
  });

  it("gives the name to another holder: the old one's claim and its identity tokens' check are refused", async () => {
    const sessions = signInSessions(await emptied(one));
    const bindings = accountBindings(one);
    await bindings.claim('alice', alice);
    await sessions.start(signIn('alice'));
    const released = await bindings.release('alice', carol, sessions, NOW + 10);
    expect(released).toMatchObject({from: alice, to: carol});
    expect(released?.endedSessions).toHaveLength(1);
    expect(await bindings.claim('alice', alice)).toBe(false);
    expect(await bindings.holds('alice', alice)).toBe(false);
    expect(await bindings.claim('alice', carol)).toBe(true);
    expect((await sessions.list({account: 'alice'})).length).toBe(0);
  });

  it('an identity token never claims a freed name: holds() leaves it free for the next sign-in', async () => {
    const sessions = signInSessions(await emptied(one));
    const bindings = accountBindings(one);
    await bindings.claim('alice', alice);
    await bindings.release('alice', undefined, sessions, NOW);
    expect(await bindings.holds('alice', alice)).toBe(false);
    expect(await one.query('SELECT * FROM account_bindings WHERE account = $1', ['alice'])).toEqual([]);
    expect(await bindings.claim('alice', carol)).toBe(true);
  });

  it('leaves the binding and the sessions as they were when the step fails part way', async () => {
    const sessions = signInSessions(await emptied(one));
    const bindings = accountBindings(one);
    await bindings.claim('alice', alice);
    await sessions.start(signIn('alice'));
    const failing = {
      revoke: async (...args: Parameters<typeof sessions.revoke>) => {
        await sessions.revoke(...args);
        throw new Error('the instance died here');
      },
    };
    await expect(bindings.release('alice', carol, failing, NOW)).rejects.toThrow('the instance died here');
    expect(await bindings.holds('alice', alice)).toBe(true);
    expect(await sessions.list({account: 'alice'})).toHaveLength(1);
  });

  it('another instance serves the new holder at once, and stops believing the old one within recheckMs', async () => {
    await emptied(one);
    const here = accountBindings(one, {recheckMs: 1000, nowMs: () => 0});
    const there = accountBindings(two, {recheckMs: 1000, nowMs: () => 0});
    expect(await there.claim('alice', alice)).toBe(true);
    await here.release('alice', carol, signInSessions(one), NOW);
    expect(await here.holds('alice', alice)).toBe(false);
    // Only a holder's own name is answered from memory: the new holder is read from the store.
    expect(await there.claim('alice', carol)).toBe(true);
    expect(await there.holds('alice', alice)).toBe(false);
  });

  it('a remembered holder is believed for recheckMs on another instance, no longer', async () => {
    await emptied(one);
    let clock = 0;
    const here = accountBindings(one, {recheckMs: 1000, nowMs: () => clock});
    const there = accountBindings(two, {recheckMs: 1000, nowMs: () => clock});
    expect(await there.holds('alice', alice)).toBe(false);
    await there.claim('alice', alice);
    await here.release('alice', undefined, signInSessions(one), NOW);
    clock = 999;
    expect(await there.holds('alice', alice)).toBe(true);
    clock = 1000;
    expect(await there.holds('alice', alice)).toBe(false);
  });
});
