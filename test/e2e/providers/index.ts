import type {StartProvider} from './provider.js';
import {startGlewlwyd} from './glewlwyd.js';
import {LEMONLDAP_PROGRAMS, startLemonLdapNgProvider} from './lemonldap-ng.js';
import {startOidcProvider} from './oidc-provider.js';

/** Every provider the parametrised suite (test/e2e/providers.test.ts) runs against, one at a time. */
export const PROVIDERS: Array<{name: string; programs: string[]; start: StartProvider}> = [
  {name: 'oidc-provider', programs: [], start: startOidcProvider},
  {name: 'glewlwyd', programs: ['glewlwyd', 'sqlite3', 'openssl'], start: startGlewlwyd},
  {name: 'lemonldap-ng', programs: LEMONLDAP_PROGRAMS, start: startLemonLdapNgProvider},
];
