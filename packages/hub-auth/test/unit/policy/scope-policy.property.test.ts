import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {requesterReader, RefusedAccountError} from '../../../src/accounts/requester.js';
import {BUILT_IN_RESERVED_NAMES} from '../../../src/namespaces.js';
import {decide, defaultPolicy, type Requester} from '../../../src/policy/acl.js';
import {isValidRepositoryName} from '@hub/protocol/repository-name';
import type {ResourceScope} from '@hub/protocol/resource-scope';
import {formatScope, parseScopes} from '../../../src/tokens/scope.js';
import {anyString, unicodeLookalikes} from '@hub/test-stack/properties';

/** fuzz cases per property. */
const RUNS = 1000;

/**
 * distribution's path component, `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`, restated without a
 * regular expression of the same shape (that one backtracks exponentially on `aaa…a!`): lowercase
 * alphanumeric runs joined by '.', '_', '__' or a run of dashes.
 */
function validComponent(component: string): boolean {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(component) || !/[a-z0-9]$/.test(component)) return false;
  return (component.match(/[._-]+/g) ?? []).every((run) => run === '.' || run === '_' || run === '__' || /^-+$/.test(run));
}
const independentlyValidName = (name: string) => name.length <= 255 && name.split('/').every(validComponent);
const ACTION = /^(?:[a-z]+|\*)$/;

/** Raw user and group names as an identity provider might send them, hostile ones included. */
const rawName = fc.oneof(
  {weight: 3, arbitrary: anyString(40)},
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'alice',
      'Alice.Smith@Example.com',
      '\u212aelvin', // lower-cases to "kelvin"
      'library',
      'LIBRARY',
      '*',
      '${account}',
      '${group}',
      '../bob',
      'bob/..',
      'a/b',
      '/devs',
      'x'.repeat(200),
      'a__b',
      'a._b',
      '-a-',
      'catalog',
      'public',
      'mirror',
    ),
  },
);
const publicRepositories = fc.subarray(['acme/website', 'mirror/*', 'public/*', '*', 'library/*', '*/shared']);

const lookalike = (text: string, at: number, by: string) =>
  text.length === 0 ? by : text.slice(0, at % text.length) + by + text.slice((at % text.length) + 1);

const run = fc.string({unit: fc.constantFrom(...'abcxyz0189'), minLength: 1, maxLength: 6});
const component = fc
  .tuple(run, fc.option(fc.tuple(fc.constantFrom('.', '_', '-', '__', '--'), run), {nil: undefined}))
  .map(([first, rest]) => (rest ? first + rest[0] + rest[1] : first));
const path = fc.array(component, {minLength: 1, maxLength: 3}).map((parts) => parts.join('/'));

/** Account and group names hub-auth accepts: valid components that are not reserved, robots under robots/. */
const groupName = fc.oneof(
  component,
  rawName.filter((name) => validComponent(name) && name.length <= 64),
);
const accountName = fc.oneof(
  {weight: 4, arbitrary: groupName.filter((name) => !BUILT_IN_RESERVED_NAMES.includes(name))},
  {weight: 1, arbitrary: groupName.map((id) => `robots/${id}`)},
);

/** A repository name aimed at `account` or `groups`: inside, just outside, or disguised. */
function targetedName(account: string, groups: readonly string[]): fc.Arbitrary<string> {
  const owners = [
    account,
    ...groups,
    ...groups.map((group) => `groups/${group}`),
    'groups',
    'robots',
    'library',
    'public',
    'mirror',
    'acme',
    'bob',
  ];
  return fc.oneof(
    {weight: 14, arbitrary: fc.tuple(fc.constantFrom(...owners), path).map(([owner, rest]) => `${owner}/${rest}`)},
    fc
      .tuple(
        fc.constantFrom(...owners),
        path,
        fc.constantFrom('/../', '/./', '//', '/', '\\', '\uff0f', '\u2215', '%2f', '%2F', '/%2e%2e/', ':', ' ', '\t', '\n', '\u0000'),
      )
      .map(([owner, rest, sep]) => `${owner}${sep}${rest}`),
    fc.tuple(fc.constantFrom(...owners), path).map(([owner, rest]) => `../${owner}/${rest}`),
    fc.tuple(fc.constantFrom(...owners), path).map(([owner, rest]) => `${owner}/${rest}/`),
    fc.tuple(fc.constantFrom(...owners), path).map(([owner, rest]) => `${owner}x/${rest}`),
    fc.tuple(fc.constantFrom(...owners), path).map(([owner, rest]) => `x${owner}/${rest}`),
    fc.tuple(fc.constantFrom(...owners), path).map(([owner, rest]) => `${owner.toUpperCase()}/${rest}`),
    fc
      .tuple(fc.constantFrom(...owners), path, fc.nat(), fc.constantFrom(...unicodeLookalikes))
      .map(([owner, rest, at, by]) => `${lookalike(owner, at, by)}/${rest}`),
    fc.tuple(fc.constantFrom(...owners), fc.integer({min: 200, max: 5000})).map(([owner, n]) => `${owner}/${'a'.repeat(n)}`),
    fc.constantFrom(...owners),
    fc.constantFrom('*', '**', `${account}/*`, `${account}*`, '${account}/x', '${group}/x', 'catalog', '', ' ', 'library', '.', '..'),
    anyString(60),
  );
}

const actionText = fc.oneof(
  {weight: 6, arbitrary: fc.subarray(['pull', 'push', 'delete', '*'], {minLength: 1}).map((a) => a.join(','))},
  {
    weight: 1,
    arbitrary: fc
      .subarray(['pull', 'push', 'delete', '*', 'PUSH', 'Push', 'pull push', '', ' ', 'pull\u0000', 'pu\u017fh'], {minLength: 1})
      .map((a) => a.join(',')),
  },
  {weight: 2, arbitrary: fc.constantFrom('push', 'delete', '*', 'pull,push,delete', '*,pull', ',,push,,', 'push:push', 'push,', ':')},
  {weight: 1, arbitrary: anyString(20)},
);
const typeText = fc.oneof(
  {weight: 6, arbitrary: fc.constant('repository')},
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'repository(plugin)',
      'registry',
      'Repository',
      'repository()',
      'repository(a)(b)',
      '',
      'repo',
      'registry(x)',
    ),
  },
  {weight: 1, arbitrary: anyString(12)},
);

/** One `scope` query value: one or several space-separated scopes, injections, or junk. */
function scopeValue(account: string, groups: readonly string[]): fc.Arbitrary<string> {
  const one = fc.tuple(typeText, targetedName(account, groups), actionText).map(([type, name, actions]) => `${type}:${name}:${actions}`);
  return fc.oneof(
    {weight: 4, arbitrary: one},
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(one, {minLength: 2, maxLength: 6}), fc.constantFrom(' ', '  ', '\t', '+', '%20'))
        .map(([scopes, separator]) => scopes.join(separator)),
    },
    // `a/x:push b/y:push` and friends: a second scope hidden in a name or an action list.
    {weight: 2, arbitrary: fc.tuple(one, one).map(([first, second]) => `${first} ${second.replace(/^[^:]*:/, '')}`)},
    {
      weight: 1,
      arbitrary: fc.tuple(targetedName(account, groups), targetedName(account, groups)).map(([a, b]) => `repository:${a}:push ${b}:push`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('registry:catalog:*', 'registry:catalog:push', 'registry(x):catalog:*', 'repository(plugin):*:*'),
    },
    {
      weight: 1,
      arbitrary: fc.integer({min: 4000, max: 6000}).map((n) => `repository:${account}/x:push `.repeat(Math.ceil(n / 20)).slice(0, n)),
    },
    {weight: 1, arbitrary: anyString(200)},
  );
}

interface Case {
  requester: Requester;
  publicRepositories: string[];
  values: string[];
}

const requestCase: fc.Arbitrary<Case> = fc
  .record({
    account: fc.option(accountName, {nil: undefined, freq: 8}),
    groups: fc.uniqueArray(groupName, {maxLength: 3}),
    publicRepositories,
  })
  .chain(({account, groups, publicRepositories: pub}) =>
    fc.array(scopeValue(account ?? 'alice', groups), {minLength: 1, maxLength: 6}).map((values) => ({
      requester: account === undefined ? {groups: []} : {account, groups},
      publicRepositories: pub,
      values,
    })),
  );

function globMatches(glob: string, value: string): boolean {
  const source = glob
    .split('*')
    .map((part) => part.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** Every token of every value the way the spec splits them, before any validation. */
function requestedTokens(values: readonly string[]): string[] {
  return values.filter((v) => v.length <= 4096).flatMap((v) => v.split(' '));
}

describe('scopes and the default policy (property-based)', () => {
  it('parseScopes never throws, and keeps only well-formed scopes with valid repository names', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(anyString(300), {maxLength: 8}),
          requestCase.map((c) => c.values),
          fc.array(
            fc.integer({min: 4090, max: 20_000}).map((n) => 'repository:a/b:pull '.repeat(n / 20 + 1).slice(0, n)),
            {maxLength: 2},
          ),
        ),
        (values) => {
          const scopes = parseScopes(values);
          expect(scopes.length).toBeLessThanOrEqual(64);
          const keys = new Set<string>();
          const tokens = new Set(requestedTokens(values));
          for (const scope of scopes) {
            expect(scope.type).toMatch(/^[a-z0-9]+$/);
            if (scope.class !== undefined) expect(scope.class).toMatch(/^[a-z0-9]+$/);
            expect(scope.actions.length).toBeGreaterThan(0);
            expect(new Set(scope.actions).size).toBe(scope.actions.length);
            for (const action of scope.actions) expect(action).toMatch(ACTION);
            if (scope.type === 'repository') {
              expect(isValidRepositoryName(scope.name)).toBe(true);
              expect(independentlyValidName(scope.name)).toBe(true);
            } else {
              expect(scope.name).toMatch(/^[\x21-\x7e]{1,255}$/);
            }
            const key = JSON.stringify([scope.type, scope.class, scope.name]);
            expect(keys.has(key)).toBe(false);
            keys.add(key);
            // Each action was asked for, by some token naming exactly this resource.
            const type = scope.class === undefined ? scope.type : `${scope.type}(${scope.class})`;
            for (const action of scope.actions) {
              expect(
                [...tokens].some(
                  (t) =>
                    t.startsWith(`${type}:${scope.name}:`) &&
                    t
                      .slice(type.length + scope.name.length + 2)
                      .split(',')
                      .includes(action),
                ),
              ).toBe(true);
            }
          }
        },
      ),
      {numRuns: RUNS},
    );
  });

  it('isValidRepositoryName agrees with the grammar on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(anyString(300), targetedName('alice', ['devs'])), (name) => {
        expect(isValidRepositoryName(name)).toBe(independentlyValidName(name));
        if (isValidRepositoryName(name)) {
          expect(name.split('/')).not.toContain('..');
          expect(name.split('/')).not.toContain('');
        }
      }),
      {numRuns: RUNS},
    );
  });

  it('formatScope ∘ parseScopes is the identity on what parseScopes keeps', () => {
    fc.assert(
      fc.property(requestCase, ({values}) => {
        const scopes = parseScopes(values);
        expect(parseScopes(scopes.map(formatScope))).toEqual(scopes);
      }),
      {numRuns: RUNS},
    );
  });

  it('decide(defaultPolicy) never grants more than pull outside the requester’s own and group namespaces, nor on public repositories, nor anything on an invalid name or the catalog', () => {
    fc.assert(
      fc.property(requestCase, ({requester, publicRepositories: pub, values}) => {
        const scopes = parseScopes(values);
        const entries = decide(defaultPolicy({publicRepositories: pub}), requester, scopes);
        const namespaces =
          requester.account === undefined
            ? []
            : [requester.account, ...requester.groups.map((group) => `groups/${group}`)].map((owner) => `${owner}/`);
        for (const entry of entries) {
          // Each entry answers a requested scope, with a subset of its actions.
          const asked = scopes.find((s) => s.type === entry.type && s.class === entry.class && s.name === entry.name);
          expect(asked).toBeDefined();
          for (const action of entry.actions) expect(asked!.actions).toContain(action);
          expect(entry.actions.length).toBeGreaterThan(0);

          // The default policy grants repositories only: the catalog is for explicit rules.
          expect(entry.type).toBe('repository');
          expect(isValidRepositoryName(entry.name)).toBe(true);
          expect(independentlyValidName(entry.name)).toBe(true);
          const publiclyPullable = pub.some((glob) => globMatches(glob, entry.name));
          const owned =
            !publiclyPullable && !entry.name.startsWith('library/') && namespaces.some((prefix) => entry.name.startsWith(prefix));
          if (!owned) {
            expect(entry.actions).toEqual(['pull']);
            const library = requester.account !== undefined && entry.name.startsWith('library/');
            expect(publiclyPullable || library).toBe(true);
          }
          if (requester.account === undefined) expect(entry.actions).toEqual(['pull']);
        }
      }),
      {numRuns: RUNS},
    );
  });

  it('a scope asking for one repository never yields an access entry for any other name', () => {
    const single = accountName.chain((account) =>
      fc.record({
        account: fc.constant(account),
        groups: fc.uniqueArray(groupName, {maxLength: 2}),
        type: fc.constantFrom('repository', 'repository(plugin)'),
        name: targetedName(account, []),
        actions: actionText,
        publicRepositories,
      }),
    );
    fc.assert(
      fc.property(single, ({account, groups, type, name, actions, publicRepositories: pub}) => {
        const token = `${type}:${name}:${actions}`;
        const entries = decide(defaultPolicy({publicRepositories: pub}), {account, groups}, parseScopes([token]));
        // A token with a space in it is several scopes by the spec; only whole tokens are checked here.
        if (token.includes(' ')) return;
        for (const entry of entries) {
          expect(entry.name).toBe(name);
          expect(entry.type).toBe('repository');
        }
        if (entries.length > 0) expect(isValidRepositoryName(name)).toBe(true);
      }),
      {numRuns: RUNS},
    );
  });

  it('a username claim is either the account exactly as it is (a valid, unreserved component) or refused, never rewritten', () => {
    const read = requesterReader({
      issuer: 'https://id.example',
      usernameClaim: 'preferred_username',
      groupsClaim: 'groups',
      reservedNames: [],
      robotClients: [],
    });
    fc.assert(
      fc.property(rawName, fc.array(rawName, {maxLength: 4}), (raw, groups) => {
        let account: string;
        let usable: readonly string[];
        try {
          ({account, groups: usable} = read({subject: 'sub-1', claims: {preferred_username: raw, groups}, expiresAt: 0}).requester);
        } catch (error) {
          expect(error).toBeInstanceOf(RefusedAccountError);
          expect(validComponent(raw) && raw.length <= 64 && !BUILT_IN_RESERVED_NAMES.includes(raw)).toBe(false);
          return;
        }
        // An empty claim is no claim: the subject is the name then, under the same rule.
        expect(account).toBe(raw === '' ? 'sub-1' : raw);
        expect(validComponent(account)).toBe(true);
        expect(BUILT_IN_RESERVED_NAMES).not.toContain(account);
        for (const group of usable) {
          expect(groups.some((given) => given === group || given === `/${group}`)).toBe(true);
          expect(validComponent(group)).toBe(true);
        }
      }),
      {numRuns: RUNS},
    );
  });

  it('stays fast on the largest requests a client may send', () => {
    const requester: Requester = {account: 'alice', groups: ['devs', 'ops']};
    const scopes: ResourceScope[] = parseScopes(
      Array.from({length: 64}, (_, i) => `repository:${'a'.repeat(250)}${String(i).padStart(2, '0')}/x:pull,push`),
    );
    const started = performance.now();
    decide(defaultPolicy({publicRepositories: ['*', 'mirror/*']}), requester, scopes);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
