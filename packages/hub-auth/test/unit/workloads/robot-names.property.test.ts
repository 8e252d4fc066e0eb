import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {requesterReader} from '../../../src/accounts/requester.js';
import {parseConfig} from '../../../src/config.js';
import {decide, defaultPolicy} from '../../../src/policy/acl.js';
import {workloadTokens, type WorkloadCaller} from '../../../src/workloads/workload-tokens.js';
import {rawConfig} from '../http/routes/token-service.js';
import {jwksFile, NOW, signed} from './signed-workload-tokens.js';

const RUNS = 200;

/** Two issuers, with templates an operator might write: a claim alone, two claims, a literal beside one. */
const ISSUERS = [
  {name: 'gha', issuer: 'https://ci-one.example', jwksFile, robot: '{repository}'},
  {name: 'gitlab', issuer: 'https://ci-two.example', jwksFile, robot: '{project_path:2}'},
  {name: 'cluster', issuer: 'https://cluster.example', jwksFile, robot: 'sa-{ns}/{name}'},
];
const tokens = await workloadTokens(parseConfig({...rawConfig, workloads: {issuers: ISSUERS}}).workloads.issuers, {
  timeoutSeconds: 1,
  cacheSize: 0,
  nowSeconds: () => NOW,
});

/** Values chosen to escape: people's and groups' names, other prefixes, traversal, case, separators. */
const VALUES = [
  'alice',
  'Alice',
  '../alice',
  'acme/app/../../alice',
  'acme/app',
  'acme/App',
  'acme//app',
  '/alice',
  'alice/',
  'groups/dev',
  'robots/ci-robot',
  'workloads/gha/x',
  'workloads',
  'gha',
  '..',
  '.',
  'a__b',
  'a-b',
  '',
  'x'.repeat(65),
];
// Plain names weigh most, so that a fair share of the tokens map to a robot whatever the seed.
const value = fc.oneof(fc.constantFrom(...VALUES), fc.string({maxLength: 12}), fc.stringMatching(/^[a-z0-9._/-]{1,20}$/), {
  arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}$/),
  weight: 3,
});
const claimsOf = fc.record({repository: value, project_path: value, ns: value, name: value});

async function robotOf(issuer: string, claims: Record<string, string>): Promise<WorkloadCaller | undefined> {
  const token = await signed(claims, issuer);
  return tokens.check(token).catch(() => undefined);
}

/** Someone else's repositories: people's (as a provider may spell them), groups', client robots'. */
const person = requesterReader({
  issuer: 'https://id.example',
  usernameClaim: 'preferred_username',
  groupsClaim: 'groups',
  reservedNames: [],
  robotClients: [],
});
const othersRepositories = VALUES.flatMap((name) => [`${name}/app`, `groups/${name}/app`, `robots/${name}/app`]);

describe('workload robot names (property-based)', () => {
  it("are under their issuer's prefix, and push nowhere a person, group, client robot or another issuer's robot owns", async () => {
    const rules = defaultPolicy({publicRepositories: []});
    let robots = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ISSUERS), claimsOf, async (issuer, claims) => {
        const robot = await robotOf(issuer.issuer, claims);
        if (!robot) return;
        robots += 1;
        const {account} = robot.requester;
        expect(account.startsWith(`workloads/${issuer.name}/`)).toBe(true);
        expect(robot.requester.groups).toEqual([]);
        const foreign = [
          ...othersRepositories.filter((name) => !name.startsWith('workloads/')),
          ...ISSUERS.filter((other) => other !== issuer).map(
            (other) => `workloads/${other.name}/${account.split('/').slice(2).join('/')}/app`,
          ),
        ];
        const scopes = foreign.map((name) => ({type: 'repository', name, actions: ['push', 'pull']}));
        expect(decide(rules, robot.requester, scopes)).toEqual([]);
        // And no person can be the robot: the prefix is reserved.
        expect(() => person({subject: 's', claims: {preferred_username: 'workloads'}, expiresAt: NOW})).toThrow(/reserved/);
      }),
      {numRuns: RUNS},
    );
    // Not vacuous: some of the tokens are robots.
    expect(robots).toBeGreaterThan(RUNS / 20);
  });

  it("of one issuer never own each other's namespaces: every one has the same number of path components", async () => {
    const rules = defaultPolicy({publicRepositories: []});
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ISSUERS), claimsOf, claimsOf, async (issuer, first, second) => {
        const [a, b] = await Promise.all([robotOf(issuer.issuer, first), robotOf(issuer.issuer, second)]);
        if (!a || !b || a.requester.account === b.requester.account) return;
        expect(a.requester.account.split('/').length).toBe(b.requester.account.split('/').length);
        const theirs = [{type: 'repository', name: `${b.requester.account}/app`, actions: ['push']}];
        expect(decide(rules, a.requester, theirs)).toEqual([]);
      }),
      {numRuns: RUNS},
    );
  });
});
