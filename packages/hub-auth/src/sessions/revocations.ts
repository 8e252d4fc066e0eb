import type {Sql} from '../store/sql.js';
import type {Store} from '../store/open-store.js';
import type {RevocationTarget, SessionRecord, Sessions} from './sessions.js';
import type {WebSessions} from './web-sessions.js';

/**
 * Ending a person's or an account's access ends all of it: the sign-in sessions (every identity
 * token docker and hub hold) and the web hub's sessions (packages/hub-web), in one transaction,
 * so that no browser tab keeps showing what the policy no longer lets them see. A sign-in
 * session's id names that session alone: hub's logout, and the operator's `--session`.
 */
export interface Revocations {
  /** Ends what `target` names, in `sql` when given (a transaction of the caller's); the sign-in sessions it ended. */
  revoke(target: RevocationTarget, reason: string, nowSeconds: number, sql?: Sql): Promise<SessionRecord[]>;
}

export function revocations(
  store: Pick<Store, 'transaction'>,
  sessions: Pick<Sessions, 'revoke'>,
  web: Pick<WebSessions, 'endFor'>,
): Revocations {
  const both = async (target: Exclude<RevocationTarget, {session: string}>, reason: string, nowSeconds: number, sql: Sql) => {
    await web.endFor(target, reason, nowSeconds, sql);
    return sessions.revoke(target, reason, nowSeconds, sql);
  };
  return {
    revoke(target, reason, nowSeconds, sql) {
      if ('session' in target) return sessions.revoke(target, reason, nowSeconds, sql);
      return sql ? both(target, reason, nowSeconds, sql) : store.transaction((inOne) => both(target, reason, nowSeconds, inOne));
    },
  };
}
