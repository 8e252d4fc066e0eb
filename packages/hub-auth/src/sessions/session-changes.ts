import {CHANNELS} from '../store/migrations.js';
import type {StoreConnection} from '../store/sql.js';

/**
 * Whether what an instance read of the sessions may still be taken as it is. The database tells
 * every instance of each change a decision reads (migration 4's trigger, at commit); an answer read
 * at one epoch stands while the epoch is the same. While the notifications cannot be heard (the
 * listening connection broke, and until it is back) there is no epoch, and everything is read anew.
 *
 * Any change forgets everything: revocations and changed groups are rare next to trades, and
 * matching a change to what it touches would mean saying each revocation target twice, in SQL
 * and here.
 */
/**
 * How long a row read is used, at most, even with no word of a change: should the listening
 * connection hang without breaking, this bounds how long a change goes unseen.
 */
export const REMEMBERED_AT_MOST_MS = 30_000;

export interface SessionChanges {
  /** Differs from every earlier answer once a session may have changed since; undefined while changes may go unheard. */
  epoch(): number | undefined;
  /**
   * This instance changed a session: forgotten now, not when the database's word comes back (a
   * server's is a few milliseconds behind the statement's answer).
   */
  changed(): void;
}

export function sessionChanges(store: Pick<StoreConnection, 'listen'>, onUnheard: (reason: string) => void): SessionChanges {
  let epoch = 0;
  let heard = false;
  store.listen(CHANNELS.sessionChanges, {
    onListening() {
      epoch++;
      heard = true;
    },
    onNotification() {
      epoch++;
    },
    onLost(reason) {
      epoch++;
      heard = false;
      onUnheard(reason);
    },
  });
  return {
    epoch: () => (heard ? epoch : undefined),
    changed() {
      epoch++;
    },
  };
}
