import type {Person, WebSessionStore} from '@hub/web';
import type {Sql} from '../store/sql.js';
import type {Store} from '../store/open-store.js';
import {targetClause, type RevocationTarget} from './sessions.js';

/**
 * The web hub's sessions (packages/hub-web), in the store so that every instance serves them:
 * by the SHA-256 of the cookie's id, with the person as the policy saw them at sign-in.
 */

export interface WebSessions extends WebSessionStore {
  /**
   * Ends the live web sessions `target` names (a person or an account: a sign-in session's id
   * names no web session), in `sql` when given (the back-channel logout's transaction); how many.
   */
  endFor(target: Exclude<RevocationTarget, {session: string}>, reason: string, nowSeconds: number, sql?: Sql): Promise<number>;
}

const INSERT = `INSERT INTO web_sessions (id_hash, issuer, subject, account, groups, provider_session, created_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), to_timestamp($8))`;
const FIND = `SELECT issuer, subject, account, groups FROM web_sessions
  WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > to_timestamp($2)`;
const END = `UPDATE web_sessions SET ended_at = to_timestamp($2), ended_reason = 'sign-out' WHERE id_hash = $1 AND ended_at IS NULL`;
/** Ended and expired sessions are kept this long (for an operator's questions), then deleted at a sign-in. */
const PRUNE = `DELETE FROM web_sessions WHERE COALESCE(ended_at, expires_at) < to_timestamp($1) - interval '7 days'`;

export function webSessions(store: Store): WebSessions {
  return {
    async create({idHash, person, providerSession, nowSeconds, expiresAt}) {
      await store.query(PRUNE, [nowSeconds]);
      await store.query(INSERT, [
        idHash,
        person.issuer,
        person.subject,
        person.account,
        person.groups,
        providerSession ?? null,
        nowSeconds,
        expiresAt,
      ]);
    },
    async find(idHash, nowSeconds) {
      const [row] = await store.query<Person & {groups: string[]}>(FIND, [idHash, nowSeconds]);
      return row && {issuer: row.issuer, subject: row.subject, account: row.account, groups: row.groups};
    },
    async end(idHash, nowSeconds) {
      await store.query(END, [idHash, nowSeconds]);
    },
    async endFor(target, reason, nowSeconds, sql) {
      const {where, params} = targetClause(target);
      const rows = await (sql ?? store).query(
        `UPDATE web_sessions SET ended_at = to_timestamp($1), ended_reason = $2 WHERE ${where} AND ended_at IS NULL RETURNING id_hash`,
        [nowSeconds, reason, ...params],
      );
      return rows.length;
    },
  };
}
