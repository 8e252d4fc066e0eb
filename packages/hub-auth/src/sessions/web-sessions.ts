import {LRUCache} from 'lru-cache';
import type {Person, WebSessionStore} from '@hub/web';
import type {Sql} from '../store/sql.js';
import type {Store} from '../store/open-store.js';
import {REMEMBERED_AT_MOST_MS, sessionChanges, type SessionChanges} from './session-changes.js';
import {targetClause, type RevocationTarget} from './sessions.js';

/**
 * The web hub's sessions (packages/hub-web), in the store so that every instance serves them:
 * by the SHA-256 of the cookie's id, with the person as the policy saw them at sign-in. Each page
 * asks for its session; a row read is used again while the database has told of no change to any
 * session (session-changes.ts, migration 6), as the refresh grant does with the sign-in sessions.
 */

export interface WebSessionsOptions {
  /** Sessions whose row is remembered, per instance. */
  maxRemembered: number;
  /** The instance's word of changed sessions, shared with the sign-in sessions; by default one of its own. */
  changes?: SessionChanges;
}

export interface WebSessions extends WebSessionStore {
  /**
   * Ends the live web sessions `target` names (a person or an account: a sign-in session's id
   * names no web session), in `sql` when given (the back-channel logout's transaction); how many.
   */
  endFor(target: Exclude<RevocationTarget, {session: string}>, reason: string, nowSeconds: number, sql?: Sql): Promise<number>;
}

const INSERT = `INSERT INTO web_sessions (id_hash, issuer, subject, account, groups, provider_session, created_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), to_timestamp($8))`;
const FIND = `SELECT issuer, subject, account, groups, extract(epoch from expires_at)::float8 AS expires_at FROM web_sessions
  WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > to_timestamp($2)`;
const END = `UPDATE web_sessions SET ended_at = to_timestamp($2), ended_reason = 'sign-out' WHERE id_hash = $1 AND ended_at IS NULL`;
/** Ended and expired sessions are kept this long (for an operator's questions), then deleted at a sign-in. */
const PRUNE = `DELETE FROM web_sessions WHERE COALESCE(ended_at, expires_at) < to_timestamp($1) - interval '7 days'`;

export function webSessions(store: Store, options: WebSessionsOptions = {maxRemembered: 10_000}): WebSessions {
  const changes = options.changes ?? sessionChanges(store, () => undefined);
  const rows = new LRUCache<string, {epoch: number; person: Person; expiresAt: number}>({
    max: options.maxRemembered,
    ttl: REMEMBERED_AT_MOST_MS,
  });
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
      const epoch = changes.epoch();
      const remembered = epoch === undefined ? undefined : rows.get(idHash);
      if (remembered && remembered.epoch === epoch && remembered.expiresAt > nowSeconds) return remembered.person;
      const [row] = await store.query<Person & {groups: string[]; expires_at: number}>(FIND, [idHash, nowSeconds]);
      if (!row) return undefined;
      const person = {issuer: row.issuer, subject: row.subject, account: row.account, groups: row.groups};
      // Kept only when no change was told while it was read: the row may be from before that change.
      if (epoch !== undefined && changes.epoch() === epoch) rows.set(idHash, {epoch, person, expiresAt: row.expires_at});
      return person;
    },
    async end(idHash, nowSeconds) {
      await store.query(END, [idHash, nowSeconds]);
      changes.changed();
    },
    async endFor(target, reason, nowSeconds, sql) {
      const {where, params} = targetClause(target);
      const ended = await (sql ?? store).query(
        `UPDATE web_sessions SET ended_at = to_timestamp($1), ended_reason = $2 WHERE ${where} AND ended_at IS NULL RETURNING id_hash`,
        [nowSeconds, reason, ...params],
      );
      if (ended.length > 0) changes.changed();
      return ended.length;
    },
  };
}
