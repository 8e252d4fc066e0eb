import fc from 'fast-check';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {accountBindings} from '../../../src/accounts/bindings.js';
import type {Holder} from '../../../src/holder.js';
import type {Store} from '../../../src/store/open-store.js';
import {BACKENDS, closeStores} from '../../stores.js';

/** Rounds: each a name never claimed before, claimed at once by several holders. */
const RUNS = 200;

const holders = fc.uniqueArray(
  fc.record({issuer: fc.constantFrom('https://id.example', 'https://other.example'), subject: fc.string({minLength: 1, maxLength: 12})}),
  {minLength: 2, maxLength: 8, selector: (holder) => `${holder.issuer} ${holder.subject}`},
);

describe.each(BACKENDS)('first claims of one name on $kind PostgreSQL', (backend) => {
  let stores: Store[];
  beforeAll(async () => {
    stores = await backend.twice();
  });
  afterAll(() => closeStores(stores));

  it('never bind it twice: exactly one claimant gets it, and every later claim agrees', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(holders, fc.array(fc.nat(1), {minLength: 8, maxLength: 8}), async (claimants, via) => {
        const account = `name-${++round}-${Math.random().toString(36).slice(2)}`;
        // A fresh view per claimant: no memory of another's answer, as on another instance.
        const answers = await Promise.all(
          claimants.map((holder, i) => accountBindings(stores[via[i % via.length]!]!, {recheckMs: 0}).claim(account, holder)),
        );
        const winners = claimants.filter((_, i) => answers[i]);
        expect(winners).toHaveLength(1);
        const rows = await stores[0]!.query<Holder>('SELECT issuer, subject FROM account_bindings WHERE account = $1', [account]);
        expect(rows).toEqual([winners[0]]);
        for (const [i, holder] of claimants.entries())
          expect(await accountBindings(stores[1 - via[i % via.length]!]!, {recheckMs: 0}).claim(account, holder)).toBe(
            holder === winners[0],
          );
      }),
      {numRuns: RUNS},
    );
  });
});
