import {describe, expect, it} from 'vitest';
import {decide, defaultPolicy, namesGranted, rememberingDecider, type AclRule, type Requester} from '../../../src/policy/acl.js';
import {parseScopes} from '../../../src/tokens/scope.js';

const ALL = ['pull', 'push', 'delete'];
const policy = defaultPolicy({publicRepositories: ['acme/website', 'mirror/*']});
const alice: Requester = {account: 'alice', groups: ['devs']};
const bob: Requester = {account: 'bob', groups: []};
const anonymous: Requester = {groups: []};

/** The actions `requester` gets on one repository when asking for `actions`. */
function granted(rules: readonly AclRule[], requester: Requester, name: string, actions = ALL): string[] {
  const entries = decide(rules, requester, [{type: 'repository', name, actions}]);
  return entries[0]?.actions ?? [];
}

describe('decide with the default policy', () => {
  it('gives a user every action in their own namespace', () => {
    expect(granted(policy, alice, 'alice/app')).toEqual(ALL);
  });

  it('gives a user their namespace at any depth', () => {
    expect(granted(policy, alice, 'alice/team/app')).toEqual(ALL);
  });

  it.each(['alice2/x', 'alicex/y', 'alice', 'xalice/y'])('does not give alice %s', (name) => {
    expect(granted(policy, alice, name)).toEqual([]);
  });

  it("denies a user another user's namespace", () => {
    expect(granted(policy, bob, 'alice/app')).toEqual([]);
  });

  it("gives group members the group's namespace, under groups/", () => {
    expect(granted(policy, alice, 'groups/devs/tool')).toEqual(ALL);
    expect(granted(policy, bob, 'groups/devs/tool')).toEqual([]);
  });

  it('never gives a group the namespace of a user named like it, nor the other way round', () => {
    expect(granted(policy, alice, 'devs/tool')).toEqual([]);
    expect(granted(policy, {account: 'devs', groups: []}, 'groups/devs/tool')).toEqual([]);
    expect(granted(policy, {account: 'devs', groups: []}, 'devs/tool')).toEqual(ALL);
  });

  it('gives a robot (account robots/<client-id>) its namespace, and a user named like its client id nothing of it', () => {
    expect(granted(policy, {account: 'robots/ci-robot', groups: []}, 'robots/ci-robot/app')).toEqual(ALL);
    expect(granted(policy, {account: 'robots/ci-robot', groups: []}, 'ci-robot/app')).toEqual([]);
    expect(granted(policy, {account: 'ci-robot', groups: []}, 'robots/ci-robot/app')).toEqual([]);
  });

  it('lets a signed-in user pull from library, and nothing more', () => {
    expect(granted(policy, bob, 'library/ubuntu')).toEqual(['pull']);
  });

  it('keeps library read-only even for an account or a group called library', () => {
    expect(granted(policy, {account: 'library', groups: ['library']}, 'library/ubuntu')).toEqual(['pull']);
  });

  it('lets anonymous requesters pull public repositories', () => {
    expect(granted(policy, anonymous, 'acme/website')).toEqual(['pull']);
    expect(granted(policy, anonymous, 'mirror/debian/bookworm')).toEqual(['pull']);
  });

  it('lets signed-in users pull public repositories too', () => {
    expect(granted(policy, bob, 'acme/website')).toEqual(['pull']);
  });

  it('decides public repositories before any namespace rule: pull only, even for the owner of the namespace', () => {
    expect(granted(policy, {account: 'acme', groups: []}, 'acme/website')).toEqual(['pull']);
    expect(granted(policy, {account: 'mirror', groups: ['mirror']}, 'mirror/debian')).toEqual(['pull']);
    expect(granted(defaultPolicy({publicRepositories: ['groups/devs/*']}), alice, 'groups/devs/tool')).toEqual(['pull']);
    expect(granted(policy, {account: 'acme', groups: []}, 'acme/private')).toEqual(ALL);
  });

  it('refuses anonymous requesters everything else', () => {
    expect(granted(policy, anonymous, 'acme/private')).toEqual([]);
    expect(granted(policy, anonymous, 'library/ubuntu')).toEqual([]);
    expect(granted(policy, anonymous, 'alice/app')).toEqual([]);
  });

  it('lets nobody list the catalog: that takes a rule that grants it', () => {
    expect(decide(policy, alice, parseScopes(['registry:catalog:*']))).toEqual([]);
    expect(decide(policy, {groups: []}, parseScopes(['registry:catalog:*']))).toEqual([]);
    const rules: AclRule[] = [{match: {group: 'admins', type: 'registry', name: 'catalog'}, actions: ['*']}, ...policy];
    expect(decide(rules, {account: 'root', groups: ['admins']}, parseScopes(['registry:catalog:*']))).toEqual([
      {type: 'registry', name: 'catalog', actions: ['*']},
    ]);
    expect(decide(rules, alice, parseScopes(['registry:catalog:*']))).toEqual([]);
  });

  it('explains every rule', () => {
    for (const rule of policy) expect(rule.comment).toBeTruthy();
  });
});

describe('decide', () => {
  it('grants only the requested actions the rule allows', () => {
    expect(granted(policy, bob, 'library/ubuntu', ['pull', 'push'])).toEqual(['pull']);
    expect(granted(policy, alice, 'alice/app', ['pull'])).toEqual(['pull']);
  });

  it('lets a rule action * grant any requested action, * included', () => {
    expect(granted(policy, alice, 'alice/app', ['*', 'frobnicate'])).toEqual(['*', 'frobnicate']);
  });

  it('does not let a requested * widen a rule without *', () => {
    expect(granted(policy, bob, 'library/ubuntu', ['*'])).toEqual([]);
  });

  it('lets the first fitting rule decide, even when a later rule would grant more', () => {
    const rules: AclRule[] = [
      {match: {name: 'alice/frozen'}, actions: ['pull']},
      {match: {name: '${account}/*'}, actions: ['*']},
    ];
    expect(granted(rules, alice, 'alice/frozen')).toEqual(['pull']);
    expect(granted(rules, alice, 'alice/app')).toEqual(ALL);
  });

  it('lets a fitting rule that grants nothing stop later rules', () => {
    const rules: AclRule[] = [
      {match: {name: 'alice/sealed'}, actions: []},
      {match: {name: '${account}/*'}, actions: ['*']},
    ];
    expect(granted(rules, alice, 'alice/sealed')).toEqual([]);
  });

  it('denies by default', () => {
    expect(decide([], alice, parseScopes(['repository:alice/app:pull']))).toEqual([]);
  });

  it('omits scopes left with no action and keeps the others in order, with their class', () => {
    const scopes = parseScopes(['repository:alice/a:push repository:bob/b:pull repository(plugin):alice/p:pull']);
    expect(decide(policy, alice, scopes)).toEqual([
      {type: 'repository', name: 'alice/a', actions: ['push']},
      {type: 'repository', class: 'plugin', name: 'alice/p', actions: ['pull']},
    ]);
  });

  it('matches rules to the requested resource type', () => {
    const rules: AclRule[] = [{match: {type: 'registry', name: 'catalog'}, actions: ['*']}];
    expect(decide(rules, alice, parseScopes(['registry:catalog:* repository:catalog:pull']))).toEqual([
      {type: 'registry', name: 'catalog', actions: ['*']},
    ]);
  });

  it('matches the account glob', () => {
    const rules: AclRule[] = [{match: {account: 'ad*', name: '*'}, actions: ['*']}];
    expect(granted(rules, {account: 'admin', groups: []}, 'any/thing')).toEqual(ALL);
    expect(granted(rules, alice, 'any/thing')).toEqual([]);
  });

  it('requires a group matching the group glob', () => {
    const rules: AclRule[] = [{match: {group: 'ops-*', name: 'infra/*'}, actions: ['push']}];
    expect(granted(rules, {account: 'carol', groups: ['devs', 'ops-eu']}, 'infra/proxy')).toEqual(['push']);
    expect(granted(rules, alice, 'infra/proxy')).toEqual([]);
  });

  it('tries ${group} only with groups that match the group glob', () => {
    const rules: AclRule[] = [{match: {group: 'team-*', name: '${group}/*'}, actions: ['*']}];
    const carol: Requester = {account: 'carol', groups: ['devs', 'team-web']};
    expect(granted(rules, carol, 'team-web/site')).toEqual(ALL);
    expect(granted(rules, carol, 'devs/tool')).toEqual([]);
  });

  it('lets a glob * span several path components', () => {
    const rules: AclRule[] = [{match: {name: 'a*z'}, actions: ['pull']}];
    expect(granted(rules, alice, 'a/b/c/z')).toEqual(['pull']);
  });

  it('treats regular-expression characters in a glob literally', () => {
    const rules: AclRule[] = [{match: {name: 'a.b'}, actions: ['pull']}];
    expect(granted(rules, alice, 'a.b')).toEqual(['pull']);
    expect(granted(rules, alice, 'axb')).toEqual([]);
  });

  it('never matches an anonymous requester with a rule that is not marked anonymous', () => {
    expect(granted([{match: {name: '*'}, actions: ['*']}], anonymous, 'any/thing')).toEqual([]);
  });

  it('never matches a signed-in requester with a rule marked anonymous', () => {
    expect(granted([{match: {anonymous: true}, actions: ['*']}], alice, 'any/thing')).toEqual([]);
  });

  it('gives ${account} no value for an anonymous requester', () => {
    expect(granted([{match: {anonymous: true, name: '${account}*'}, actions: ['*']}], anonymous, 'x')).toEqual([]);
  });

  describe('placeholder values cannot widen access', () => {
    it.each(['*', 'a*', '.*', '(.*)', '[a-z]*', '\\', '${account}'])('a group named %j is only that literal name', (group) => {
      const requester: Requester = {account: 'mallory', groups: [group]};
      expect(granted(policy, requester, 'alice/app')).toEqual([]);
      expect(granted(policy, requester, 'victim/app')).toEqual([]);
    });

    it('a group named * still owns the namespace literally called *', () => {
      const rules: AclRule[] = [{match: {name: '${group}/*'}, actions: ['*']}];
      expect(granted(rules, {account: 'mallory', groups: ['*']}, '*/app')).toEqual(ALL);
    });

    it('an account named * does not own every namespace', () => {
      expect(granted(policy, {account: '*', groups: []}, 'alice/app')).toEqual([]);
    });

    it('an account containing a regular expression does not match other names', () => {
      expect(granted(policy, {account: 'a.*', groups: []}, 'alice/app')).toEqual([]);
    });
  });
});

describe('defaultPolicy', () => {
  it('makes two rules per public repository, one for signed-in and one for anonymous requesters', () => {
    expect(defaultPolicy({publicRepositories: []})).toHaveLength(3);
    expect(defaultPolicy({publicRepositories: ['a/*', 'b']})).toHaveLength(7);
  });
});

describe('rememberingDecider', () => {
  it('answers as decide does, once per requester and scope list', () => {
    const decideOnce = rememberingDecider(policy);
    const scopes = parseScopes(['repository:alice/app:pull,push repository:bob/app:pull']);
    const answer = decideOnce(alice, scopes);
    expect(answer).toEqual(decide(policy, alice, scopes));
    expect(decideOnce(alice, scopes)).toBe(answer);
    expect(decideOnce(bob, scopes)).toEqual([{type: 'repository', name: 'bob/app', actions: ['pull']}]);
    expect(decideOnce({account: 'alice', groups: []}, parseScopes(['repository:alice/app:pull']))).toEqual([
      {type: 'repository', name: 'alice/app', actions: ['pull']},
    ]);
  });
});

describe('namesGranted', () => {
  it('lists, under the default policy, the own namespace and each group under groups/ for push, and library and public names for pull', () => {
    const member = {account: 'alice', groups: ['devs', 'ops']};
    expect(namesGranted(policy, member, 'push')).toEqual(['alice/*', 'groups/devs/*', 'groups/ops/*']);
    expect(namesGranted(policy, member, 'pull')).toEqual([
      'acme/website',
      'mirror/*',
      'library/*',
      'alice/*',
      'groups/devs/*',
      'groups/ops/*',
    ]);
  });

  it('keeps to the rules whose account and group fit, and fills in only the groups a rule matches', () => {
    const rules: AclRule[] = [
      {match: {account: 'bob', name: '*'}, actions: ['*']},
      {match: {group: 'team-*', name: 'teams/${group}/*'}, actions: ['push']},
      {match: {name: 'mirror/*'}, actions: ['pull']},
    ];
    expect(namesGranted(rules, {account: 'alice', groups: ['team-a', 'other']}, 'push')).toEqual(['teams/team-a/*']);
    expect(namesGranted(rules, {account: 'bob', groups: []}, 'push')).toEqual(['*']);
  });
});
