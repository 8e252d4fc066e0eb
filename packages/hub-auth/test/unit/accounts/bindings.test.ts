import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {accountBindings} from '../../../src/accounts/bindings.js';
import type {Store} from '../../../src/store/open-store.js';
import {BACKENDS, countingStatements, emptied} from '../../stores.js';

const alice = {issuer: 'https://id.example', subject: 'sub-alice'};
const mallory = {issuer: 'https://id.example', subject: 'sub-mallory'};
const HOLDER_READ = /^SELECT issuer, subject FROM account_bindings/;

describe.each(BACKENDS)('account bindings on $kind PostgreSQL', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.fresh();
  });
  afterAll(async () => store?.close());

  it('trusts a holder read for a second, then reads it once for the whole burst of requests that find the second over', async () => {
    const {store: counted, sent} = countingStatements(await emptied(store));
    let nowMs = 0;
    const bindings = accountBindings(counted, {recheckMs: 1000, nowMs: () => nowMs});
    expect(await bindings.claim('alice', alice)).toBe(true);
    const first = sent(HOLDER_READ);
    expect(await Promise.all(Array.from({length: 20}, () => bindings.claim('alice', alice)))).toEqual(Array(20).fill(true));
    expect(sent(HOLDER_READ)).toBe(first);
    nowMs = 1000;
    const burst = [...Array.from({length: 20}, () => bindings.claim('alice', alice)), bindings.holds('alice', alice)];
    expect(await Promise.all(burst)).toEqual(Array(21).fill(true));
    expect(sent(HOLDER_READ)).toBe(first + 1);
  });

  it('refuses everyone of a burst who is not the holder, on the one shared read', async () => {
    const bindings = accountBindings(await emptied(store));
    expect(await bindings.claim('alice', alice)).toBe(true);
    const burst = Array.from({length: 10}, (_, index) => bindings.claim('alice', index % 2 ? alice : mallory));
    expect(await Promise.all(burst)).toEqual(Array.from({length: 10}, (_, index) => index % 2 === 1));
  });
});
