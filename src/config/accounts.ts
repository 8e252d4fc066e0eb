import {HubError} from '@hub/common/errors';
import type {RegistrySettings, StorageKind} from './settings.js';

/**
 * The accounts logged in to one registry, as its settings record them: several people (or a
 * person and a robot) may be, one of them active. Pure: the flows read and write the settings.
 */
export interface Account {
  name: string;
  storage: StorageKind;
  /**
   * Saved by hub before several accounts: the session is under the registry's own name in the
   * store, not the account's (src/session/accounts.ts moves it on first use).
   */
  legacy: boolean;
}

/** Every account of the registry, in the order of their logins. */
export function accountsOf(saved: RegistrySettings): Account[] {
  if (saved.accounts === undefined) return [{name: saved.account ?? '', storage: saved.storage, legacy: true}];
  return Object.entries(saved.accounts).map(([name, {storage}]) => ({name, storage, legacy: false}));
}

/** The account docker and hub go as, unless told otherwise. */
export function activeAccount(saved: RegistrySettings): Account | undefined {
  return accountsOf(saved).find((account) => account.name === (saved.account ?? ''));
}

/**
 * The settings after a login as `name`: added (or, when already there, its storage updated) and
 * made active. The provider settings are the login's, as they were with one account.
 */
export function withAccount(saved: RegistrySettings, name: string, storage: StorageKind): RegistrySettings {
  const others = Object.fromEntries(
    accountsOf(saved)
      .filter((account) => account.name !== name)
      .map((account) => [account.name, {storage: account.storage}]),
  );
  return {...saved, account: name, storage, accounts: {...others, [name]: {storage}}};
}

/** The settings with `name` active; undefined when it is not logged in here. */
export function switchedTo(saved: RegistrySettings, name: string): RegistrySettings | undefined {
  const account = accountsOf(saved).find((candidate) => candidate.name === name);
  return account && {...saved, account: name, storage: account.storage};
}

/**
 * The settings once `name` has logged out, or undefined when it was the last account. When it
 * was the active one, the account that logged in most recently of those left takes over.
 */
export function withoutAccount(saved: RegistrySettings, name: string): RegistrySettings | undefined {
  const left = accountsOf(saved).filter((account) => account.name !== name);
  const next = saved.account === name ? left.at(-1) : activeAccount(saved);
  if (!next) return undefined;
  const accounts = Object.fromEntries(left.map((account) => [account.name, {storage: account.storage}]));
  return {...saved, account: next.name, storage: next.storage, accounts};
}

/** `name` is not among the registry's accounts (`names`): a state, exit 1, as for a registry not logged in to. */
export function notLoggedInAs(host: string, name: string, names: readonly string[]): HubError {
  return new HubError(`${name} is not logged in to ${host}; logged in: ${names.join(', ')}.`, {
    code: 'not_logged_in',
    suggestions: [`Name one of those, or run \`hub login ${host}\` and sign in as ${name} to add the account.`],
  });
}
