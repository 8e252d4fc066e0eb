import {LRUCache} from 'lru-cache';
import type {Store} from '../store/open-store.js';
import {importBindingsFile, type ImportedBindings} from './bindings-import.js';
import type {Holder} from '../holder.js';
import type {Revocations} from '../sessions/revocations.js';
import {sharedRuns} from '../in-flight.js';

/**
 * Which holder (issuer and subject) each account name belongs to. OIDC does not promise that a
 * username is unique, nor that it stays with one person, so the first holder that uses a name
 * keeps it: another subject presenting the same name is refused, and never shares its namespace.
 *
 * The bindings are rows of the store (store/migrations.ts), keyed by the name. A free name is
 * claimed by one INSERT that does nothing when the name is taken, then read back: of holders
 * claiming one name at once, on any number of instances, the database lets exactly one insert,
 * and every claimant reads that one's row. No read decides a write, so there is no race to lose.
 *
 * A holder read is trusted for `recheckMs` (a second): looking on every request would cost a query
 * per token request, and the second adds nothing an attacker can use, since the registry tokens a
 * released name's old holder already has stay valid for their whole lifetime (minutes) anyway.
 * Only a holder's own name is answered from memory: a refusal reads the store again, so that the
 * name's new holder after a release is served at once on every instance. The requests that find
 * the second over share one read, not one each.
 */
export interface AccountBindings {
  /** True when `account` is `holder`'s (bound now if it was free), false when another's. */
  claim(account: string, holder: Holder): Promise<boolean>;
  /** True when `account` is `holder`'s now; a free name stays free (an identity token never claims one). */
  holds(account: string, holder: Holder): Promise<boolean>;
  /**
   * Frees `account`, or gives it to `to`, and ends every session of it, in one transaction: the
   * old holder's identity tokens and web sessions stop working as the name stops being theirs.
   * Undefined when nobody held it.
   */
  release(account: string, to: Holder | undefined, revocations: Revocations, nowSeconds: number): Promise<Released | undefined>;
  /** Resolves once the store answers and the bindings file of earlier versions is in it; rejects with why not yet. */
  ready(): Promise<void>;
}

export interface Released {
  from: Holder;
  to: Holder | undefined;
  /** The ids of the sessions it ended. */
  endedSessions: string[];
}

export interface BindingsOptions {
  /** How long a holder read from the store is trusted. */
  recheckMs: number;
  /** The clock `recheckMs` is counted on, in milliseconds. */
  nowMs: () => number;
  /** Names whose holder is remembered at most. */
  maxEntries: number;
  /** The bindings file of earlier versions (accounts.bindingsFile), imported before the first claim. */
  importFile?: string;
  onImported?: (imported: ImportedBindings) => void;
}

const DEFAULT_OPTIONS: BindingsOptions = {recheckMs: 1000, nowMs: () => performance.now(), maxEntries: 10_000};

const CLAIM = 'INSERT INTO account_bindings (account, issuer, subject) VALUES ($1, $2, $3) ON CONFLICT (account) DO NOTHING';
const HOLDER = 'SELECT issuer, subject FROM account_bindings WHERE account = $1';
const HOLDER_FOR_RELEASE = `${HOLDER} FOR UPDATE`;
const FREE = 'DELETE FROM account_bindings WHERE account = $1';
const MOVE = 'UPDATE account_bindings SET issuer = $2, subject = $3, since = to_timestamp($4) WHERE account = $1';
const RELEASE_EVENT = `INSERT INTO events (at, kind, account, issuer, subject, detail) VALUES (to_timestamp($1), 'release', $2, $3, $4, $5)`;

export function accountBindings(store: Store, given: Partial<BindingsOptions> = {}): AccountBindings {
  const options = {...DEFAULT_OPTIONS, ...given};
  const known = new LRUCache<string, {holder: Holder; readAt: number}>({max: Math.max(options.maxEntries, 1)});
  const reading = sharedRuns<string, Holder | undefined>();

  let importing: Promise<void> | undefined;
  let imported = false;
  // Before any claim, or a name of the file could go to whoever asks first. A try that failed (the
  // server down) is tried again by the next claim or /readyz; one that succeeded stands.
  const ready = async (): Promise<void> => {
    if (imported) return;
    importing ??= store.ready().then(async () => {
      const done = options.importFile === undefined ? undefined : await importBindingsFile(store, options.importFile);
      if (done) options.onImported?.(done);
      imported = true;
    });
    try {
      await importing;
    } catch (error) {
      importing = undefined;
      throw error;
    }
  };

  async function holderOf(account: string, sql: Pick<Store, 'query'> = store, text = HOLDER): Promise<Holder | undefined> {
    const [row] = await sql.query<Holder>(text, [account]);
    return row && {issuer: row.issuer, subject: row.subject};
  }

  /** The holder remembered within recheckMs, when it is `holder`. */
  function remembersAs(account: string, holder: Holder, now: number): boolean {
    const remembered = known.get(account);
    return remembered !== undefined && now - remembered.readAt < options.recheckMs && sameHolder(remembered.holder, holder);
  }

  function remember(account: string, held: Holder | undefined, now: number): void {
    if (held) known.set(account, {holder: held, readAt: now});
    else known.delete(account);
  }

  return {
    ready,
    async claim(account, holder) {
      if (!imported) await ready();
      const now = options.nowMs();
      if (remembersAs(account, holder, now)) return true;
      let held = await reading(account, () => holderOf(account));
      if (!held) {
        await store.query(CLAIM, [account, holder.issuer, holder.subject]);
        // Ours, or the one who got there first: either way the row that stands.
        held = await holderOf(account);
      }
      // Undefined when released between our insert and our read: nobody holds it, so not this caller either.
      remember(account, held, now);
      return held !== undefined && sameHolder(held, holder);
    },
    async holds(account, holder) {
      if (!imported) await ready();
      const now = options.nowMs();
      if (remembersAs(account, holder, now)) return true;
      const held = await reading(account, () => holderOf(account));
      remember(account, held, now);
      return held !== undefined && sameHolder(held, holder);
    },
    async release(account, to, revocations, nowSeconds) {
      if (!imported) await ready();
      const released = await store.transaction(async (sql) => {
        // Locked: a claim of the freed name waits for this transaction, and finds it free or moved.
        const from = await holderOf(account, sql, HOLDER_FOR_RELEASE);
        if (!from) return undefined;
        await (to ? sql.query(MOVE, [account, to.issuer, to.subject, nowSeconds]) : sql.query(FREE, [account]));
        const ended = await revocations.revoke(
          {account},
          to ? 'account name given to another holder' : 'account name released',
          nowSeconds,
          sql,
        );
        await sql.query(RELEASE_EVENT, [
          nowSeconds,
          account,
          from.issuer,
          from.subject,
          JSON.stringify({to: to ?? null, endedSessions: ended.length}),
        ]);
        return {from, to, endedSessions: ended.map((session) => session.id)};
      });
      // This instance forgets the old holder now; the others re-read within recheckMs.
      known.delete(account);
      return released;
    },
  };
}

function sameHolder(a: Holder, b: Holder): boolean {
  return a.issuer === b.issuer && a.subject === b.subject;
}
