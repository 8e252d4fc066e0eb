import {LRUCache} from 'lru-cache';
import type {RegistryActivity, RegistryEvent} from '@hub/web';
import type {Store} from '../store/open-store.js';
import type {ManifestEvent} from './notifications.js';

/**
 * What the registry's notifications say happened to its manifests, in the store: every push and
 * delete (by the event's id, so a resent event is one row), and a count of pulls per repository.
 * The web hub reads it (RegistryActivity); the registry writes it (routes/registry-notifications.ts).
 *
 * A repository's activity, read for its page, is used again for a few seconds, as the web hub does
 * with its tag list: the page is loaded far more often than the registry pushes to it. What this
 * instance records is forgotten at once; another instance's page shows it within those seconds,
 * and the registry's own delivery of its notifications is later than that at times anyway.
 */
export interface RegistryActivityStore extends RegistryActivity {
  /** Keeps the events; how many were new (a resent one is not). */
  record(events: readonly ManifestEvent[]): Promise<number>;
  /** The last push of each tag of a repository, by tag (`hub images REPOSITORY`). */
  lastPushPerTag(repository: string): Promise<Array<RegistryEvent & {tag: string}>>;
}

const INSERT_EVENTS = `INSERT INTO registry_events (event_id, at, action, repository, tag, digest, media_type, size, actor)
  SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])
  ON CONFLICT (event_id) DO NOTHING`;
const COUNT_PULLS = `INSERT INTO repository_pulls (repository, count, last_at)
  SELECT repository, count(*), max(at) FROM unnest($1::text[], $2::timestamptz[]) AS pulled(repository, at) GROUP BY repository
  ON CONFLICT (repository) DO UPDATE SET count = repository_pulls.count + excluded.count,
    last_at = GREATEST(repository_pulls.last_at, excluded.last_at)`;
const EVENT_COLUMNS = `action, extract(epoch from at)::float8 AS at, tag, digest, size::float8 AS size, actor`;
// One statement for a repository's page: its pulls, and its newest events (none: one row of nulls).
const OF_REPOSITORY = `SELECT counted.pulls, newest.* FROM
  (SELECT COALESCE((SELECT count::float8 FROM repository_pulls WHERE repository = $1), 0) AS pulls) counted
  LEFT JOIN LATERAL (SELECT ${EVENT_COLUMNS}, event_id FROM registry_events WHERE repository = $1 ORDER BY at DESC, event_id LIMIT $2) newest ON true`;
const LAST_PUSH_PER_TAG = `SELECT DISTINCT ON (tag) ${EVENT_COLUMNS} FROM registry_events
  WHERE repository = $1 AND action = 'push' AND tag IS NOT NULL ORDER BY tag, at DESC`;
/** How long a repository's activity is used again, and for how many repositories. */
const ACTIVITY_MS = 5000;
const ACTIVITY_KEPT = 10_000;

const LAST_PUSHES = `SELECT DISTINCT ON (repository) repository, ${EVENT_COLUMNS} FROM registry_events
  WHERE repository = ANY($1::text[]) AND action = 'push' ORDER BY repository, at DESC`;

interface EventRow {
  action: 'push' | 'delete';
  at: number;
  tag: string | null;
  digest: string;
  size: number;
  actor: string | null;
}

const registryEvent = (row: EventRow): RegistryEvent => ({
  action: row.action,
  at: row.at,
  tag: row.tag ?? undefined,
  digest: row.digest,
  size: row.size,
  by: row.actor ?? undefined,
});

export function registryActivity(store: Pick<Store, 'query' | 'transaction'>): RegistryActivityStore {
  const recent = new LRUCache<string, {limit: number; activity: Awaited<ReturnType<RegistryActivity['ofRepository']>>}>({
    max: ACTIVITY_KEPT,
    ttl: ACTIVITY_MS,
  });
  // Moves on at each record: a read that overlapped one is not kept.
  let records = 0;
  return {
    record: async (events) => {
      const added = await store.transaction(async (sql) => {
        const kept = events.filter((event) => event.action !== 'pull');
        const pulls = events.filter((event) => event.action === 'pull');
        const column = <K extends keyof ManifestEvent>(key: K) => kept.map((event) => event[key] ?? null);
        const inserted =
          kept.length === 0
            ? []
            : await sql.query(`${INSERT_EVENTS} RETURNING event_id`, [
                column('id'),
                column('at'),
                column('action'),
                column('repository'),
                column('tag'),
                column('digest'),
                column('mediaType'),
                column('size'),
                column('actor'),
              ]);
        if (pulls.length > 0) await sql.query(COUNT_PULLS, [pulls.map((event) => event.repository), pulls.map((event) => event.at)]);
        return inserted.length;
      });
      // After the commit: a page read while this was written holds what was there before.
      records++;
      for (const event of events) recent.delete(event.repository);
      return added;
    },

    async ofRepository(repository, limit) {
      const kept = recent.get(repository);
      if (kept?.limit === limit) return kept.activity;
      const before = records;
      const rows = await store.query<{pulls: number} & (EventRow | {[K in keyof EventRow]: null})>(OF_REPOSITORY, [repository, limit]);
      const events = rows.filter((row): row is {pulls: number} & EventRow => row.action !== null);
      const activity = {events: events.map(registryEvent), pulls: rows[0]?.pulls ?? 0};
      if (records === before) recent.set(repository, {limit, activity});
      return activity;
    },

    async lastPushPerTag(repository) {
      const rows = await store.query<EventRow & {tag: string}>(LAST_PUSH_PER_TAG, [repository]);
      return rows.map((row) => ({...registryEvent(row), tag: row.tag}));
    },

    async lastPushes(repositories) {
      if (repositories.length === 0) return new Map();
      const rows = await store.query<EventRow & {repository: string}>(LAST_PUSHES, [[...repositories]]);
      return new Map(rows.map((row) => [row.repository, registryEvent(row)]));
    },
  };
}
