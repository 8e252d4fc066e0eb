import {describe, expect, it} from 'vitest';
import {defaultPolicy, namespaceAccess, type AclRule} from '../../../src/policy/acl.js';

const rules = defaultPolicy({publicRepositories: ['public/*']});

describe('who may act under a namespace, as the policy says', () => {
  it("an account namespace is its account's; a group's is its members'; library and public are everyone's to pull", () => {
    expect(namespaceAccess(rules, 'alice')).toEqual([{who: {kind: 'account', name: 'alice'}, actions: ['*']}]);
    expect(namespaceAccess(rules, 'groups/dev')).toEqual([{who: {kind: 'group', name: 'dev'}, actions: ['*']}]);
    expect(namespaceAccess(rules, 'library')).toEqual([{who: {kind: 'signed-in'}, actions: ['pull']}]);
    expect(namespaceAccess(rules, 'public')).toEqual([
      {who: {kind: 'signed-in'}, actions: ['pull']},
      {who: {kind: 'anonymous'}, actions: ['pull']},
    ]);
    // A robot's namespace (robots/<client>) is no account's: `${account}/*` never binds a reserved prefix.
    expect(namespaceAccess(rules, 'robots')).toEqual([]);
  });

  it('names the accounts and groups a rule is kept to, and the names it covers when only some', () => {
    const custom: AclRule[] = [
      {match: {name: 'team/web-*', group: 'web*'}, actions: ['pull', 'push']},
      {match: {name: 'team/*', account: 'ci-*'}, actions: ['pull']},
      {match: {name: 'other/*'}, actions: ['*']},
    ];
    expect(namespaceAccess(custom, 'team')).toEqual([
      {who: {kind: 'signed-in', groups: 'web*'}, actions: ['pull', 'push'], names: 'team/web-*'},
      {who: {kind: 'signed-in', accounts: 'ci-*'}, actions: ['pull']},
    ]);
  });

  it("leaves out a group rule whose group glob the namespace's group does not fit", () => {
    const custom: AclRule[] = [{match: {name: 'groups/${group}/*', group: 'eng-*'}, actions: ['*']}];
    expect(namespaceAccess(custom, 'groups/eng-web')).toEqual([{who: {kind: 'group', name: 'eng-web'}, actions: ['*']}]);
    expect(namespaceAccess(custom, 'groups/sales')).toEqual([]);
  });
});
