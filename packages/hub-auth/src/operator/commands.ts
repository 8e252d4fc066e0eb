import {accountsRelease, ACCOUNTS_USAGE} from './accounts-release.js';
import {revoke, REVOKE_USAGE} from './revoke.js';
import {sessionsList, SESSIONS_USAGE} from './sessions-list.js';

/** The operator's commands, which talk to the running instance's admin API: their help and what runs them. */
export const OPERATOR_USAGE = {sessions: SESSIONS_USAGE, revoke: REVOKE_USAGE, accounts: ACCOUNTS_USAGE} as const;

export const OPERATOR_COMMANDS: Record<keyof typeof OPERATOR_USAGE, (args: string[]) => Promise<number>> = {
  sessions: sessionsList,
  revoke,
  accounts: accountsRelease,
};
