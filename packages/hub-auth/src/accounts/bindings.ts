import {LRUCache} from 'lru-cache';
import type {Store} from '../store/open-store.js';
import {importBindingsFile, type ImportedBindings} from './bindings-import.js';
import type {Holder} from '../holder.js';

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
 */
export interface AccountBindings {
  /** True when `account` is `holder`'s (bound now if it was free), false when another's. */
  claim(account: string, holder: Holder): Promise<boolean>;
  /**
   * True when `account` is bound to `holder` now; never binds. For credentials that stand for a
   * binding made earlier (identity tokens): a name released since is nobody's, and a departed
   * holder's copied token must not claim it back.
   */
  holds(account: string, holder: Holder): Promise<boolean>;
  /** Resolves once the store answers and the bindings file of earlier versions is in it; rejects with why not yet. */
  ready(): Promise<void>;
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

export function accountBindings(store: Store, given: Partial<BindingsOptions> = {}): AccountBindings {
  const options = {...DEFAULT_OPTIONS, ...given};
  const known = new LRUCache<string, {holder: Holder; readAt: number}>({max: Math.max(options.maxEntries, 1)});

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

  async function holderOf(account: string): Promise<Holder | undefined> {
    const [row] = await store.query<Holder>(HOLDER, [account]);
    return row && {issuer: row.issuer, subject: row.subject};
  }

  /** Who holds `account`: as read within `recheckMs`, else as the store says now (remembered when someone does). */
  async function currentHolder(account: string, now: number): Promise<Holder | undefined> {
    if (!imported) await ready();
    const remembered = known.get(account);
    if (remembered && now - remembered.readAt < options.recheckMs) return remembered.holder;
    const held = await holderOf(account);
    if (held) known.set(account, {holder: held, readAt: now});
    return held;
  }

  return {
    ready,
    async holds(account, holder) {
      const held = await currentHolder(account, options.nowMs());
      return held !== undefined && sameHolder(held, holder);
    },
    async claim(account, holder) {
      const now = options.nowMs();
      let held = await currentHolder(account, now);
      if (!held) {
        await store.query(CLAIM, [account, holder.issuer, holder.subject]);
        // Ours, or the one who got there first: either way the row that stands.
        held = await holderOf(account);
        if (!held) {
          // Released between our insert and our read: nobody holds it, so it is not this caller's either.
          known.delete(account);
          return false;
        }
        known.set(account, {holder: held, readAt: now});
      }
      return sameHolder(held, holder);
    },
  };
}

function sameHolder(a: Holder, b: Holder): boolean {
  return a.issuer === b.issuer && a.subject === b.subject;
}
