import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {spawnHubAuth, writeHubAuthConfig, type HubAuthOptions} from '@hub/test-stack/hub-auth';
import {freePort} from '@hub/test-stack/ports';
import {startPostgres, type Postgres} from '@hub/test-stack/postgres';
import {signInSessions} from '../packages/hub-auth/src/sessions/sessions.js';
import {openStore, type Store} from '../packages/hub-auth/src/store/open-store.js';
import {msUntilReady} from './cold-paths.js';
import {BEFORE_THE_STORE, previousBuild} from './previous-build.js';
import type {BenchContext} from './context.js';
import {figure, type Figure} from './report.js';
import {summarize} from './stats.js';

const START = 'hub-auth start, store';
const GROWTH = 'Sessions store on PostgreSQL';
const MB = 1024 * 1024;
/** What each statement may take here: the fills and the big revocation run long on purpose (a fill of a million took over 60 s at load 13). */
const BENCH_STATEMENT_SECONDS = 300;

/**
 * What the store costs: hub-auth's start with the embedded store (PGlite) beside today's start,
 * the version before the store (BEFORE_THE_STORE), issue #23's limit: +300 ms, +60 MB; and beside
 * the same start on a PostgreSQL server, which loads no WebAssembly. And how the
 * sessions tables grow on PostgreSQL: the refresh grant's lookup (sessions.ofToken) with few and
 * with many stored sessions, the revocation of one account with many, and the size on disk.
 */
export async function benchStore(ctx: BenchContext): Promise<Figure[]> {
  const postgres = await startPostgres();
  try {
    return [...(await startFigures(ctx, postgres)), ...(await growthFigures(ctx, postgres))];
  } finally {
    await postgres.remove();
  }
}

interface Started {
  ms: number;
  rssMB: number;
}

async function startFigures(ctx: BenchContext, postgres: Postgres): Promise<Figure[]> {
  const previous = await previousBuild(BEFORE_THE_STORE, ctx.log);
  const base = {oidcIssuer: ctx.stack.idp.issuer, registryHost: ctx.registryHost, signing: ctx.stack.signing};
  const server: HubAuthOptions = {
    ...base,
    dir: join(ctx.dir, 'store-start', 'server'),
    store: {url: {env: 'HUB_AUTH_STORE_URL'}},
    env: {HUB_AUTH_STORE_URL: await postgres.database('bench_start')},
  };
  // The version before knows no `store` section: its state is the bindings file alone.
  const todays: HubAuthOptions = {
    ...base,
    dir: join(ctx.dir, 'store-start', 'previous'),
    bin: previous.hubAuthBin,
    extra: {store: undefined},
  };
  // Not counted: its first start, so that each of its timed starts opens state it left, as a PGlite reopen does.
  await timedStart(todays);
  const first: Started[] = [];
  const reopen: Started[] = [];
  const onServer: Started[] = [];
  const today: Started[] = [];
  for (let round = 0; round < ctx.settings.storeStartRounds; round++) {
    ctx.log(`store start round ${round + 1}: today's build, PostgreSQL server, PGlite first start, PGlite reopened`);
    const embedded: HubAuthOptions = {...base, dir: join(ctx.dir, 'store-start', `embedded-${round}`)};
    today.push(await timedStart(todays));
    onServer.push(await timedStart(server));
    first.push(await timedStart(embedded));
    reopen.push(await timedStart(embedded));
  }
  const of = (list: Started[], key: keyof Started) => summarize(list.map((started) => started[key]));
  // Round by round: the starts of a round ran seconds apart, on the same machine's speed.
  const added = (key: keyof Started, to: Started[]) => summarize(reopen.map((started, i) => started[key] - to[i]![key]));
  const todaysName = `today's build (${previous.commit.slice(0, 7)}: bindings file)`;
  const against = (key: keyof Started, unit: string, name: string, addedName: string, bound: number): Figure[] => [
    figure({
      benchmark: START,
      name: `PGlite reopened: ${name}`,
      unit,
      value: of(reopen, key),
      baseline: {name: todaysName, value: of(today, key)},
    }),
    figure({
      benchmark: START,
      name: `PGlite reopened: ${addedName} added to today's`,
      unit,
      value: added(key, today),
      target: {op: '<=', value: bound},
    }),
    figure({
      benchmark: START,
      name: `PGlite reopened: ${name}`,
      unit,
      value: of(reopen, key),
      baseline: {name: 'the same start on a PostgreSQL server', value: of(onServer, key)},
    }),
    figure({benchmark: START, name: `PGlite reopened: ${addedName} added to the PostgreSQL server's`, unit, value: added(key, onServer)}),
  ];
  return [
    ...against('ms', 'ms', 'start → /readyz 200', 'time', 300),
    ...against('rssMB', 'MB', 'RSS once ready', 'RSS', 60),
    figure({benchmark: START, name: 'PGlite first start (creates the database): start → /readyz 200', unit: 'ms', value: of(first, 'ms')}),
    figure({benchmark: START, name: 'PGlite first start: RSS once ready', unit: 'MB', value: of(first, 'rssMB')}),
  ];
}

/** One `hub-auth serve` from spawn to /readyz 200, and its resident memory then. */
async function timedStart(options: HubAuthOptions): Promise<Started> {
  const monitoringPort = await freePort();
  const config = await writeHubAuthConfig(options, await freePort(), monitoringPort);
  const daemon = spawnHubAuth(config, join(options.dir, 'hub-auth.log'), options.env, [], options.bin);
  try {
    const ms = await msUntilReady(`http://127.0.0.1:${monitoringPort}/readyz`, daemon);
    const status = readFileSync(`/proc/${daemon.child.pid}/status`, 'utf8');
    return {ms, rssMB: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024};
  } finally {
    await daemon.stop();
  }
}

/**
 * Rows as sign-ins leave them (a session, its identity token, its sign-in event), numbered
 * from..to-1; ten sessions an account unless `account` names one for all. One statement a table.
 */
async function fill(store: Store, from: number, to: number, account?: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const params = [from, to - 1, now, account ?? null];
  const sessionId = "md5('session' || i)::uuid";
  await store.query(
    `INSERT INTO sessions (id, issuer, subject, account, groups, client, address, provider_session, created_at, last_used_at, checked_at, expires_at)
     SELECT ${sessionId}, 'https://id.example.com/realms/company', 'subject-' || i, coalesce($4, 'user' || (i / 10)), ARRAY['developers', 'team-' || (i % 50)],
       'hub-cli', '10.0.' || (i % 250) || '.' || (i % 200), md5('provider-session' || i), to_timestamp($3), to_timestamp($3), to_timestamp($3), to_timestamp($3 + 28800)
     FROM generate_series($1::int, $2::int) AS i`,
    params,
  );
  await store.query(
    `INSERT INTO identity_tokens (id, session_id, issued_at, expires_at)
     SELECT md5('token' || i)::uuid, ${sessionId}, to_timestamp($3), to_timestamp($3 + 28800) FROM generate_series($1::int, $2::int) AS i`,
    params.slice(0, 3),
  );
  await store.query(
    `INSERT INTO events (at, kind, session_id, account, issuer, subject, detail)
     SELECT to_timestamp($3), 'sign-in', ${sessionId}, coalesce($4, 'user' || (i / 10)), 'https://id.example.com/realms/company', 'subject-' || i,
       jsonb_build_object('client', 'hub-cli', 'address', '10.0.0.1', 'token', md5('token' || i)::uuid)
     FROM generate_series($1::int, $2::int) AS i`,
    params,
  );
  await store.query('ANALYZE sessions, identity_tokens, events');
}

/** sessions.ofToken, read fresh, of random stored identity tokens, from `workers` at once, for `seconds`: lookups per second. */
async function lookupRate(store: Store, stored: number, seconds: number, workers = 4): Promise<number> {
  const sessions = signInSessions(store);
  const ids = Array.from({length: 2000}, () => Math.floor(Math.random() * stored));
  const [{uuids}] = (await store.query<{uuids: string[]}>(
    "SELECT array_agg(md5('token' || i)::uuid::text) AS uuids FROM unnest($1::int[]) AS i",
    [ids],
  )) as [{uuids: string[]}];
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({length: workers}, async (_, worker) => {
      for (let i = worker; performance.now() - started < seconds * 1000; i += workers) {
        // Read from the store each time: what is measured is the table's lookup, not an instance's memory of it.
        if (!(await sessions.ofToken(uuids[i % uuids.length]!, {fresh: true}))) throw new Error('a stored identity token was not found');
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function growthFigures(ctx: BenchContext, postgres: Postgres): Promise<Figure[]> {
  const {fewSessions, manySessions, crowdSessions, lookupSeconds, growthRounds} = ctx.settings;
  const store = await openStore(
    {
      url: {value: await postgres.database('bench_sessions')},
      poolSize: 10,
      statementTimeoutSeconds: BENCH_STATEMENT_SECONDS,
      followSymlink: false,
    },
    {info: () => undefined, warn: () => undefined, error: (_fields, msg) => ctx.log(`store: ${msg}`)},
  );
  try {
    await store.ready();
    ctx.log(`sessions store: ${fewSessions} sessions`);
    await fill(store, 0, fewSessions);
    // Not counted: the first round warms the client's code and the server's caches up.
    await lookupRate(store, fewSessions, lookupSeconds);
    const few: number[] = [];
    for (let round = 0; round < growthRounds; round++) few.push(await lookupRate(store, fewSessions, lookupSeconds));
    ctx.log(`sessions store: filling to ${manySessions} sessions`);
    await fill(store, fewSessions, manySessions);
    const many: number[] = [];
    for (let round = 0; round < growthRounds; round++) many.push(await lookupRate(store, manySessions, lookupSeconds));
    const [{bytes}] = (await store.query<{bytes: string}>(
      "SELECT (pg_total_relation_size('sessions') + pg_total_relation_size('identity_tokens') + pg_total_relation_size('events'))::text AS bytes",
    )) as [{bytes: string}];

    const revokeMs: number[] = [];
    const sessions = signInSessions(store);
    for (let round = 0; round < growthRounds; round++) {
      const from = manySessions + round * crowdSessions;
      await fill(store, from, from + crowdSessions, `crowd${round}`);
      const started = performance.now();
      const ended = await sessions.revoke({account: `crowd${round}`}, 'bench', Math.floor(Date.now() / 1000));
      revokeMs.push(performance.now() - started);
      if (ended.length !== crowdSessions) throw new Error(`revoked ${ended.length} sessions of ${crowdSessions}`);
    }
    const count = (n: number) => n.toLocaleString('en-US');
    return [
      figure({
        benchmark: GROWTH,
        name: `sessions.ofToken (the refresh grant's lookup), ${count(manySessions)} sessions stored: lookups/s`,
        unit: 'lookups/s',
        value: summarize(many),
        baseline: {name: `the same with ${count(fewSessions)} sessions stored`, value: summarize(few)},
        target: {op: '>=', value: 0.9},
      }),
      figure({
        benchmark: GROWTH,
        name: `revoking one account with ${count(crowdSessions)} sessions, beside ${count(manySessions)} others`,
        unit: 'ms',
        value: summarize(revokeMs),
        target: {op: '<=', value: 1000},
      }),
      figure({
        benchmark: GROWTH,
        name: 'size on disk per million sessions (sessions, identity tokens, sign-in events, indexes)',
        unit: 'MB',
        value: summarize([(Number(bytes) / MB) * (1_000_000 / manySessions)]),
      }),
    ];
  } finally {
    await store.close();
  }
}
