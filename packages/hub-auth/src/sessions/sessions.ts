import {randomUUID} from 'node:crypto';
import {LRUCache} from 'lru-cache';
import type {Holder} from '../holder.js';
import type {Sql} from '../store/sql.js';
import type {Store} from '../store/open-store.js';
import {REMEMBERED_AT_MOST_MS, sessionChanges, type SessionChanges} from './session-changes.js';
import {sharedRuns} from '../in-flight.js';

/**
 * Sign-in sessions: what hub-auth's identity tokens (docker's refresh tokens) stand for. A token
 * carries its session's id and its own (jti); the session row says whether it still works, for
 * whom, with which groups. Ending a session ends every identity token issued for it, on every
 * instance at once: each remembers the rows it read only until the database says a session changed
 * (session-changes.ts), and a refusal is always decided on the row as it is now.
 *
 * A session is re-checked when a valid provider access token of its person passes through
 * hub-auth (`recheck`): that is the only sign hub-auth gets that the provider still knows them,
 * and it brings the groups decisions use. A session not re-checked within the configured window
 * (refreshTokens.revalidateSeconds) no longer works (tokens/session-check.ts decides).
 */

/** One sign-in session as the refresh grant and the operator read it. Times in seconds since the epoch. */
export interface SessionRecord {
  id: string;
  holder: Holder;
  account: string;
  groups: string[];
  /** The client it signed in with (`hub`, `docker`, …: the client_id of the request) and from where. */
  client: string;
  address: string;
  /** The provider's own session id (`sid`), when its tokens carry one: back-channel logout names it. */
  providerSession: string | null;
  createdAt: number;
  lastUsedAt: number;
  checkedAt: number;
  expiresAt: number;
  revoked: {at: number; reason: string} | null;
}

export interface SessionStart {
  holder: Holder;
  account: string;
  groups: readonly string[];
  client: string;
  address: string;
  providerSession?: string | undefined;
  nowSeconds: number;
  /** When its first identity token expires; each further token moves it. */
  expiresAt: number;
}

/** Which sessions a revocation ends. */
export type RevocationTarget =
  | {session: string}
  | {account: string}
  /** A person at a provider; with `providerSession`, only the sessions signed in through that provider session. */
  | {issuer: string; subject?: string; providerSession?: string}
  /**
   * That person's sessions of that provider session, and those whose provider session is not
   * known (their tokens carried no `sid`): which of those the provider meant, nobody can tell.
   */
  | {issuer: string; subject: string; providerSession: string; unrecordedToo: true};

/** An identity token to sign: its id and its session's. */
export interface IssuedIdentity {
  sessionId: string;
  tokenId: string;
}

export interface Sessions {
  /** A new sign-in session and its first identity token. */
  start(start: SessionStart): Promise<IssuedIdentity>;
  /**
   * Another identity token for a live session of the same holder (hub trading a fresh provider
   * token with the identity token it holds), which re-checks the session; undefined when the
   * session is not live or not this holder's, and the caller starts a new one.
   */
  extend(
    sessionId: string,
    holder: Holder,
    groups: readonly string[],
    nowSeconds: number,
    expiresAt: number,
  ): Promise<IssuedIdentity | undefined>;
  /**
   * The session an identity token was issued for, by the token's id; undefined when no such token
   * was issued. As this instance last read it, unless `fresh`: unchanged since, but its re-check
   * (which tells no other instance) may be newer.
   */
  ofToken(tokenId: string, read?: {fresh: boolean}): Promise<SessionRecord | undefined>;
  /** A valid provider token of this person passed: their live sessions are re-checked now, with these groups. */
  recheck(holder: Holder, groups: readonly string[], nowSeconds: number): Promise<void>;
  /** The session was used: recorded at most once a `touchEverySeconds`. */
  touch(sessionId: string, nowSeconds: number): Promise<void>;
  /** Ends the live sessions `target` names, in `sql` when given (a transaction of the caller's); the sessions it ended. */
  revoke(target: RevocationTarget, reason: string, nowSeconds: number, sql?: Sql): Promise<SessionRecord[]>;
  /** Live sessions, newest first; of one account when given; with `nowSeconds`, none that expired by then. */
  list(filter?: {account?: string; limit?: number; nowSeconds?: number}): Promise<SessionRecord[]>;
}

export interface SessionsOptions {
  /** How often one instance writes a session's last use, and a person's re-check when their groups are unchanged. */
  touchEverySeconds: number;
  /** Sessions and people whose last write (and sessions whose row) is remembered, per instance. */
  maxRemembered: number;
  /** The database's word of changed sessions, one per instance for its sign-in and web sessions alike; by default one of its own. */
  changes?: SessionChanges;
}

const DEFAULT_OPTIONS: SessionsOptions = {touchEverySeconds: 60, maxRemembered: 100_000};

const COLUMNS = `s.id, s.issuer, s.subject, s.account, s.groups, s.client, s.address, s.provider_session,
  extract(epoch from s.created_at)::float8 AS created_at, extract(epoch from s.last_used_at)::float8 AS last_used_at,
  extract(epoch from s.checked_at)::float8 AS checked_at, extract(epoch from s.expires_at)::float8 AS expires_at,
  extract(epoch from s.revoked_at)::float8 AS revoked_at, s.revoked_reason`;

interface Row {
  id: string;
  issuer: string;
  subject: string;
  account: string;
  groups: string[];
  client: string;
  address: string;
  provider_session: string | null;
  created_at: number;
  last_used_at: number;
  checked_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

const INSERT_SESSION = `INSERT INTO sessions (id, issuer, subject, account, groups, client, address, provider_session,
  created_at, last_used_at, checked_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9), to_timestamp($9), to_timestamp($9), to_timestamp($10))`;
const INSERT_TOKEN =
  'INSERT INTO identity_tokens (id, session_id, issued_at, expires_at) VALUES ($1, $2, to_timestamp($3), to_timestamp($4))';
const INSERT_EVENT = `INSERT INTO events (at, kind, session_id, account, issuer, subject, detail)
  VALUES (to_timestamp($1), $2, $3, $4, $5, $6, $7)`;
// Both say whether the groups changed (`regrouped`): what this instance remembers is then forgotten at once.
const EXTEND = `WITH before AS (
    SELECT id, groups FROM sessions WHERE id = $1 AND issuer = $2 AND subject = $3 AND revoked_at IS NULL FOR UPDATE
  ) UPDATE sessions s SET checked_at = to_timestamp($4), groups = $5, expires_at = GREATEST(s.expires_at, to_timestamp($6))
  FROM before WHERE s.id = before.id RETURNING s.account, before.groups IS DISTINCT FROM $5::text[] AS regrouped`;
const OF_TOKEN = `SELECT ${COLUMNS} FROM identity_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.id = $1`;
// Changed groups apply even within the second of the last re-check; checked_at never goes back (instances' clocks differ).
const RECHECK = `WITH before AS (
    SELECT id, groups FROM sessions WHERE issuer = $1 AND subject = $2 AND revoked_at IS NULL
      AND (checked_at < to_timestamp($3) OR groups IS DISTINCT FROM $4::text[]) FOR UPDATE
  ) UPDATE sessions s SET checked_at = GREATEST(s.checked_at, to_timestamp($3)), groups = $4
  FROM before WHERE s.id = before.id RETURNING before.groups IS DISTINCT FROM $4::text[] AS regrouped`;
const TOUCH = 'UPDATE sessions SET last_used_at = to_timestamp($2) WHERE id = $1 AND last_used_at < to_timestamp($2)';

/**
 * The WHERE clause and parameters (from $3 on: $1 and $2 are the time and the reason) of a target,
 * for the sign-in sessions and the web sessions (web-sessions.ts) alike.
 */
export function targetClause(target: RevocationTarget): {where: string; params: unknown[]} {
  if ('session' in target) return {where: 'id = $3', params: [target.session]};
  if ('account' in target) return {where: 'account = $3', params: [target.account]};
  const parts = ['issuer = $3'];
  const params: unknown[] = [target.issuer];
  if (target.subject !== undefined) parts.push(`subject = $${params.push(target.subject) + 2}`);
  if (target.providerSession !== undefined) {
    const named = `provider_session = $${params.push(target.providerSession) + 2}`;
    parts.push('unrecordedToo' in target ? `(${named} OR provider_session IS NULL)` : named);
  }
  return {where: parts.join(' AND '), params};
}

export function signInSessions(store: Store, given: Partial<SessionsOptions> = {}): Sessions {
  const options = {...DEFAULT_OPTIONS, ...given};
  const touched = new LRUCache<string, number>({max: options.maxRemembered});
  const checked = new LRUCache<string, {at: number; groups: string}>({max: options.maxRemembered});
  // A burst of one person's requests makes one write, not one each.
  const touching = sharedRuns<string, void>();
  const rechecking = sharedRuns<string, void>();
  const changes = options.changes ?? sessionChanges(store, () => undefined);
  const sessionRows = new LRUCache<string, {epoch: number; session: SessionRecord}>({
    max: options.maxRemembered,
    ttl: REMEMBERED_AT_MOST_MS,
  });

  const event = (sql: Sql, nowSeconds: number, kind: string, session: Pick<SessionRecord, 'id' | 'account' | 'holder'>, detail: object) =>
    sql.query(INSERT_EVENT, [
      nowSeconds,
      kind,
      session.id,
      session.account,
      session.holder.issuer,
      session.holder.subject,
      JSON.stringify(detail),
    ]);

  return {
    start: (start) =>
      store.transaction(async (sql) => {
        const issued = {sessionId: randomUUID(), tokenId: randomUUID()};
        await sql.query(INSERT_SESSION, [
          issued.sessionId,
          start.holder.issuer,
          start.holder.subject,
          start.account,
          [...start.groups],
          start.client,
          start.address,
          start.providerSession ?? null,
          start.nowSeconds,
          start.expiresAt,
        ]);
        await sql.query(INSERT_TOKEN, [issued.tokenId, issued.sessionId, start.nowSeconds, start.expiresAt]);
        await event(
          sql,
          start.nowSeconds,
          'sign-in',
          {id: issued.sessionId, account: start.account, holder: start.holder},
          {
            client: start.client,
            address: start.address,
            token: issued.tokenId,
          },
        );
        return issued;
      }),

    extend: (sessionId, holder, groups, nowSeconds, expiresAt) =>
      store.transaction(async (sql) => {
        const [row] = await sql.query<{account: string; regrouped: boolean}>(EXTEND, [
          sessionId,
          holder.issuer,
          holder.subject,
          nowSeconds,
          [...groups],
          expiresAt,
        ]);
        if (!row) return undefined;
        if (row.regrouped) changes.changed();
        const tokenId = randomUUID();
        await sql.query(INSERT_TOKEN, [tokenId, sessionId, nowSeconds, expiresAt]);
        await event(sql, nowSeconds, 'issue', {id: sessionId, account: row.account, holder}, {token: tokenId});
        return {sessionId, tokenId};
      }),

    async ofToken(tokenId, read = {fresh: false}) {
      const epoch = changes.epoch();
      const remembered = epoch === undefined || read.fresh ? undefined : sessionRows.get(tokenId);
      if (remembered && remembered.epoch === epoch) return remembered.session;
      const [row] = await store.query<Row>(OF_TOKEN, [tokenId]);
      const session = row && record(row);
      // Kept only when no change was told while it was read: the row may be from before that change.
      if (session && !session.revoked && epoch !== undefined && changes.epoch() === epoch) sessionRows.set(tokenId, {epoch, session});
      return session;
    },

    async recheck(holder, groups, nowSeconds) {
      const key = `${holder.issuer}\n${holder.subject}`;
      const groupList = JSON.stringify(groups);
      const last = checked.get(key);
      // Unchanged groups within the interval: the window (an hour) does not need the write; changed ones apply at once.
      if (last && last.groups === groupList && nowSeconds - last.at < options.touchEverySeconds) return;
      await rechecking(`${key}\n${groupList}`, async () => {
        const rechecked = await store.query<{regrouped: boolean}>(RECHECK, [holder.issuer, holder.subject, nowSeconds, [...groups]]);
        if (rechecked.some((row) => row.regrouped)) changes.changed();
        checked.set(key, {at: nowSeconds, groups: groupList});
      });
    },

    async touch(sessionId, nowSeconds) {
      const last = touched.get(sessionId);
      if (last !== undefined && nowSeconds - last < options.touchEverySeconds) return;
      await touching(sessionId, async () => {
        await store.query(TOUCH, [sessionId, nowSeconds]);
        touched.set(sessionId, nowSeconds);
      });
    },

    async revoke(target, reason, nowSeconds, given) {
      const {where, params} = targetClause(target);
      // One statement whatever the count: an account with ten thousand sessions ends as fast as one.
      const ended = await (given ?? store).query<Row>(
        `WITH ended AS (
          UPDATE sessions s SET revoked_at = to_timestamp($1), revoked_reason = $2 WHERE ${where} AND revoked_at IS NULL RETURNING ${COLUMNS}
        ), logged AS (
          INSERT INTO events (at, kind, session_id, account, issuer, subject, detail)
          SELECT to_timestamp($1), 'revoke', id, account, issuer, subject, jsonb_build_object('reason', $2::text) FROM ended
        ) SELECT * FROM ended`,
        [nowSeconds, reason, ...params],
      );
      if (ended.length > 0) changes.changed();
      return ended.map(record);
    },

    async list(filter = {}) {
      const params: unknown[] = [filter.limit ?? 1000];
      let where = filter.account === undefined ? '' : `AND s.account = $${params.push(filter.account)}`;
      if (filter.nowSeconds !== undefined) where += ` AND s.expires_at > to_timestamp($${params.push(filter.nowSeconds)})`;
      const rows = await store.query<Row>(
        `SELECT ${COLUMNS} FROM sessions s WHERE s.revoked_at IS NULL ${where} ORDER BY s.created_at DESC LIMIT $1`,
        params,
      );
      return rows.map(record);
    },
  };
}

function record(row: Row): SessionRecord {
  return {
    id: row.id,
    holder: {issuer: row.issuer, subject: row.subject},
    account: row.account,
    groups: row.groups,
    client: row.client,
    address: row.address,
    providerSession: row.provider_session,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    checkedAt: row.checked_at,
    expiresAt: row.expires_at,
    revoked: row.revoked_at === null ? null : {at: row.revoked_at, reason: row.revoked_reason ?? ''},
  };
}
