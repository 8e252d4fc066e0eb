import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {requesterReader, RefusedAccountError} from '../../../src/accounts/requester.js';
import type {Holder} from '../../../src/holder.js';
import {decide, defaultPolicy, type Requester} from '../../../src/policy/acl.js';

/** fuzz cases per property. */
const RUNS = 500;

/**
 * Names chosen to collide: the same person-name in the forms a provider may send it, names of
 * groups, robots and reserved prefixes.
 */
const NAMES = [
  'alice',
  'Alice',
  'alice_',
  '.alice.',
  'alice@',
  'ALICE',
  'dev',
  'Dev',
  '/dev',
  'ops',
  'ci-robot',
  'public',
  'library',
  'groups',
  'robots',
  'groups/dev',
  'robots/ci-robot',
  'a__b',
  'a_b',
  'a-b',
];
const ISSUERS = ['https://id.example', 'https://other-id.example'];

interface Caller {
  holder: Holder;
  claims: Record<string, unknown>;
}

/** A person (username and groups claims) or a robot (client credentials: its subject is its client id). */
const caller: fc.Arbitrary<Caller> = fc.oneof(
  fc
    .record({
      issuer: fc.constantFrom(...ISSUERS),
      subject: fc.constantFrom('s1', 's2', 's3', ...NAMES),
      username: fc.option(fc.constantFrom(...NAMES), {nil: undefined}),
      groups: fc.subarray(NAMES, {maxLength: 4}),
    })
    .map(({issuer, subject, username, groups}) => ({
      holder: {issuer, subject},
      claims: {preferred_username: username, groups, client_id: 'hub-cli'},
    })),
  fc
    .record({issuer: fc.constantFrom(...ISSUERS), clientId: fc.constantFrom(...NAMES), groups: fc.subarray(NAMES, {maxLength: 2})})
    .map(({issuer, clientId, groups}) => ({holder: {issuer, subject: clientId}, claims: {client_id: clientId, groups}})),
);

/** Every repository either could conceivably push to, in every namespace layout. */
function candidateNames(requesters: Requester[]): string[] {
  const owners = new Set(NAMES);
  for (const requester of requesters) {
    owners.add(requester.account!);
    for (const group of requester.groups) owners.add(group).add(`groups/${group}`);
  }
  for (const name of NAMES) owners.add(`groups/${name}`).add(`robots/${name}`);
  return [...owners].flatMap((owner) => [`${owner}/app`, `${owner}/team/app`, owner]);
}

describe('namespace ownership under the default policy (property-based)', () => {
  it('two distinct holders (issuer and subject) with no group in common can never push to the same repository', () => {
    fc.assert(
      fc.property(
        fc.array(caller, {minLength: 2, maxLength: 4}),
        fc.subarray(['public/*', 'library/*', 'alice/public-*', 'groups/dev/*', '*/shared'], {maxLength: 2}),
        (callers, publicRepositories) => {
          const rules = defaultPolicy({publicRepositories});
          // The route: read the requester and holder, then the account must be bound to this holder (bindings.ts: the first one keeps it).
          const read = requesterReader({
            issuer: 'ignored',
            usernameClaim: 'preferred_username',
            groupsClaim: 'groups',
            reservedNames: [],
            robotClients: [],
          });
          const bound = new Map<string, string>();
          const admitted: Array<{holder: string; requester: Requester}> = [];
          for (const {holder, claims} of callers) {
            const key = `${holder.issuer} ${holder.subject}`;
            let requester: Requester & {account: string};
            try {
              requester = read({subject: holder.subject, claims, expiresAt: 0}).requester;
            } catch (error) {
              expect(error).toBeInstanceOf(RefusedAccountError);
              continue;
            }
            if (!bound.has(requester.account)) bound.set(requester.account, key);
            if (bound.get(requester.account) === key) admitted.push({holder: key, requester});
          }
          const scopes = candidateNames(admitted.map((a) => a.requester)).map((name) => ({type: 'repository', name, actions: ['push']}));
          const pushable = admitted.map(({requester}) => new Set(decide(rules, requester, scopes).map((entry) => entry.name)));
          for (const [i, first] of admitted.entries()) {
            for (const [j, second] of admitted.entries()) {
              if (j <= i || first.holder === second.holder) continue;
              if (first.requester.groups.some((group) => second.requester.groups.includes(group))) continue;
              const shared = [...pushable[i]!].filter((name) => pushable[j]!.has(name));
              expect(shared, `${first.holder} and ${second.holder}`).toEqual([]);
            }
          }
        },
      ),
      {numRuns: RUNS},
    );
  });
});
