import type {StoreConnection} from './sql.js';

/** Channels of PostgreSQL's notifications (NOTIFY) that instances LISTEN on. */
export const CHANNELS = {sessionChanges: 'hub_auth_session_changes'} as const;

/**
 * The store's schema, one version after another; a version, once released, never changes: the
 * next change is a new version. Each statement is one statement (PGlite's parameterised protocol
 * takes no more).
 */
const MIGRATIONS: ReadonlyArray<{version: number; name: string; statements: readonly string[]}> = [
  {
    version: 1,
    name: 'account bindings',
    statements: [
      // The first holder that uses a name keeps it (accounts/bindings.ts): the key makes a second binding impossible.
      `CREATE TABLE account_bindings (
        account text PRIMARY KEY,
        issuer text NOT NULL,
        subject text NOT NULL,
        since timestamptz NOT NULL DEFAULT now()
      )`,
      // What one holder holds: for releasing and revoking by issuer and subject.
      'CREATE INDEX account_bindings_holder ON account_bindings (issuer, subject)',
      // State brought in from elsewhere once (the bindings file of earlier versions), so that it is never brought in twice.
      `CREATE TABLE imports (
        source text PRIMARY KEY,
        entries integer NOT NULL,
        imported_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    version: 2,
    name: 'sign-in sessions',
    statements: [
      // One row per sign-in: what its identity tokens may do, and whether they still may. Times are
      // hub-auth's clock (the one its tokens' iat and exp are on), given with each statement.
      `CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        issuer text NOT NULL,
        subject text NOT NULL,
        account text NOT NULL,
        groups text[] NOT NULL,
        client text NOT NULL,
        address text NOT NULL,
        provider_session text,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz NOT NULL,
        checked_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text
      )`,
      // Revocations and re-checks name a person, an account or a provider session; only live sessions matter to them.
      'CREATE INDEX sessions_holder ON sessions (issuer, subject) WHERE revoked_at IS NULL',
      'CREATE INDEX sessions_account ON sessions (account) WHERE revoked_at IS NULL',
      'CREATE INDEX sessions_provider_session ON sessions (issuer, provider_session) WHERE revoked_at IS NULL',
      // The identity tokens issued for a session, by their jti: never the token itself.
      `CREATE TABLE identity_tokens (
        id uuid PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      )`,
      'CREATE INDEX identity_tokens_session ON identity_tokens (session_id)',
      // What happened, for audits: sign-ins, identity tokens issued, revocations.
      `CREATE TABLE events (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        kind text NOT NULL,
        session_id uuid,
        account text,
        issuer text,
        subject text,
        detail jsonb NOT NULL DEFAULT '{}'
      )`,
      'CREATE INDEX events_at ON events (at)',
      // Back-channel logout tokens already acted on (their jti), kept until they expire: each is accepted once.
      `CREATE TABLE logout_tokens (
        issuer text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (issuer, jti)
      )`,
    ],
  },
  {
    version: 3,
    name: 'web sessions',
    statements: [
      // One row per web hub sign-in (packages/hub-web): the browser's cookie holds the id, this
      // table its SHA-256 only, and no token of the provider's. Times are hub-auth's clock.
      `CREATE TABLE web_sessions (
        id_hash text PRIMARY KEY,
        issuer text NOT NULL,
        subject text NOT NULL,
        account text NOT NULL,
        groups text[] NOT NULL,
        provider_session text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        ended_at timestamptz,
        ended_reason text
      )`,
      // Back-channel logout ends them by person or provider session; only live ones matter to it.
      'CREATE INDEX web_sessions_holder ON web_sessions (issuer, subject) WHERE ended_at IS NULL',
      'CREATE INDEX web_sessions_provider_session ON web_sessions (issuer, provider_session) WHERE ended_at IS NULL',
    ],
  },
  {
    version: 4,
    name: 'session change notifications',
    statements: [
      // Every instance remembers the sessions it read (sessions/session-changes.ts) until told that
      // one changed in a way a decision reads. Told by the database itself, whichever statement made
      // the change (hub-auth's, or an operator's by hand), at its commit; PostgreSQL sends one
      // notification per transaction however many rows it changed.
      `CREATE FUNCTION notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${CHANNELS.sessionChanges}', '');
        RETURN NULL;
      END
      $$`,
      `CREATE TRIGGER sessions_changed AFTER UPDATE ON sessions FOR EACH ROW
        WHEN (ROW(OLD.revoked_at, OLD.groups, OLD.account, OLD.issuer, OLD.subject)
          IS DISTINCT FROM ROW(NEW.revoked_at, NEW.groups, NEW.account, NEW.issuer, NEW.subject))
        EXECUTE FUNCTION notify_session_change()`,
      'CREATE TRIGGER sessions_deleted AFTER DELETE OR TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION notify_session_change()',
      'CREATE TRIGGER identity_tokens_deleted AFTER DELETE OR TRUNCATE ON identity_tokens FOR EACH STATEMENT EXECUTE FUNCTION notify_session_change()',
    ],
  },
  {
    version: 5,
    name: 'registry activity',
    statements: [
      // The registry's notifications of manifest pushes and deletes (activity/), by the event's id:
      // the registry sends an event again until it is answered, and a repeat is the same row.
      // `actor` is the subject of the registry token the registry accepted: hub-auth's account name.
      `CREATE TABLE registry_events (
        event_id text PRIMARY KEY,
        at timestamptz NOT NULL,
        action text NOT NULL,
        repository text NOT NULL,
        tag text,
        digest text NOT NULL,
        media_type text NOT NULL,
        size bigint NOT NULL,
        actor text
      )`,
      'CREATE INDEX registry_events_repository ON registry_events (repository, at DESC)',
      // Pulls are counted, not kept one by one: a busy registry pulls far more than it pushes.
      `CREATE TABLE repository_pulls (
        repository text PRIMARY KEY,
        count bigint NOT NULL,
        last_at timestamptz NOT NULL
      )`,
    ],
  },
  {
    version: 6,
    name: 'web session change notifications',
    statements: [
      // The web sessions are remembered as the sign-in sessions are (migration 4), and told on the
      // same channel: a sign-out or an ending at one instance reaches the pages of every other.
      // Per row on DELETE: the prune at each sign-in removes no live session, and tells nobody
      // when it removes nothing.
      `CREATE TRIGGER web_sessions_changed AFTER UPDATE ON web_sessions FOR EACH ROW
        WHEN (ROW(OLD.ended_at, OLD.expires_at, OLD.groups, OLD.account, OLD.issuer, OLD.subject)
          IS DISTINCT FROM ROW(NEW.ended_at, NEW.expires_at, NEW.groups, NEW.account, NEW.issuer, NEW.subject))
        EXECUTE FUNCTION notify_session_change()`,
      'CREATE TRIGGER web_sessions_deleted AFTER DELETE ON web_sessions FOR EACH ROW EXECUTE FUNCTION notify_session_change()',
      'CREATE TRIGGER web_sessions_truncated AFTER TRUNCATE ON web_sessions FOR EACH STATEMENT EXECUTE FUNCTION notify_session_change()',
    ],
  },
];

/**
 * Keys of transaction-scoped advisory locks (pg_advisory_xact_lock): one per kind of work that
 * instances starting together must do one at a time. Released at commit, or when a session dies.
 */
export const LOCKS = {migrations: '7366020917346620001', imports: '7366020917346620002'} as const;

/** Brings the schema up to date, once, whichever of several starting instances gets the lock first; the versions it applied. */
export async function migrate(connection: StoreConnection): Promise<number[]> {
  return connection.transaction(async (sql) => {
    await sql.query('SELECT pg_advisory_xact_lock($1::bigint)', [LOCKS.migrations]);
    await sql.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await sql.query<{version: number}>('SELECT version FROM schema_migrations')).map((row) => row.version));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await sql.query(statement);
      await sql.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}
