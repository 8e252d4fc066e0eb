import {describe, expect, it} from 'vitest';
import {accountsOf, activeAccount, switchedTo, withAccount, withoutAccount} from '../../../src/config/accounts.js';
import type {RegistrySettings} from '../../../src/config/settings.js';

const provider = {issuer: 'https://id.example.com', clientId: 'hub', scopes: 'openid'};
/** Settings as hub wrote them before several accounts: no `accounts`, the session under the registry's name. */
const legacy: RegistrySettings = {...provider, storage: 'keychain', account: 'alice'};

describe('the accounts of a registry', () => {
  it('reads settings of hub before several accounts as one account whose session has the registry’s name', () => {
    expect(accountsOf(legacy)).toEqual([{name: 'alice', storage: 'keychain', legacy: true}]);
    expect(activeAccount(legacy)).toEqual({name: 'alice', storage: 'keychain', legacy: true});
  });

  it('adds a login as another account and makes it active; one as an account already there replaces it in place', () => {
    const alice = withAccount({...provider, storage: 'keychain', accounts: {}}, 'alice', 'keychain');
    const both = withAccount(alice, 'bob', 'insecure-file');
    expect(both).toMatchObject({account: 'bob', storage: 'insecure-file'});
    expect(accountsOf(both).map((a) => [a.name, a.storage])).toEqual([
      ['alice', 'keychain'],
      ['bob', 'insecure-file'],
    ]);
    const again = withAccount(both, 'alice', 'insecure-file');
    expect(again).toMatchObject({account: 'alice', storage: 'insecure-file'});
    expect(accountsOf(again).map((a) => a.name)).toEqual(['bob', 'alice']);
  });

  it('switches to an account that is there, with its storage, and to none that is not', () => {
    const both = withAccount(withAccount({...provider, storage: 'keychain', accounts: {}}, 'alice', 'insecure-file'), 'bob', 'keychain');
    expect(switchedTo(both, 'alice')).toMatchObject({account: 'alice', storage: 'insecure-file'});
    expect(switchedTo(both, 'carol')).toBeUndefined();
  });

  it('after a logout of the active account, makes active the one that logged in last of those left; the last one leaves nothing', () => {
    let saved: RegistrySettings = {...provider, storage: 'keychain', accounts: {}};
    for (const name of ['alice', 'bob', 'carol']) saved = withAccount(saved, name, 'keychain');
    const switched = switchedTo(saved, 'alice')!;
    // Not the active one: the active stays.
    expect(withoutAccount(switched, 'carol')).toMatchObject({account: 'alice', accounts: {alice: {}, bob: {}}});
    // The active one: the most recent login of those left takes over.
    expect(withoutAccount(switched, 'alice')).toMatchObject({account: 'carol', accounts: {bob: {}, carol: {}}});
    expect(withoutAccount(withAccount({...provider, storage: 'keychain', accounts: {}}, 'alice', 'keychain'), 'alice')).toBeUndefined();
    expect(withoutAccount(legacy, 'alice')).toBeUndefined();
  });
});
