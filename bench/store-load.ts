import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {SERVICE, startHubAuth, type HubAuth, type HubAuthOptions} from '@hub/test-stack/hub-auth';
import {startPostgres} from '@hub/test-stack/postgres';
import type {BenchContext} from './context.js';
import {BENCH_SCOPE, jwtAccessToken, recordAnswer} from './hub-auth-load.js';
import type {LoadPlan} from './load-client.js';
import {assertTwoCores, pin, runLoad, type MeasuredLoad} from './pinned-load.js';
import {BEFORE_THE_STORE, previousBuild} from './previous-build.js';
import {figure, type Figure} from './report.js';
import {summarize} from './stats.js';

const REVOCATION = 'Revocation across three hub-auth instances on one PostgreSQL';
/** A revocation not seen by then is a failure, not a figure. */
const REFUSED_WITHIN_MS = 10_000;

/**
 * What the store costs the token endpoint, against the version before it (BEFORE_THE_STORE:
 * stateless identity tokens, bindings in a file), built and run beside this one: the access-token
 * path (issue #23: ≥ 0.9× of today's rate) on the embedded store and on PostgreSQL, and the
 * refresh grant, which now reads its session, against the stateless one (≥ 0.8×). Then how long
 * a revocation at one of three instances on one PostgreSQL takes to be refused at the others.
 */
export async function benchStoreLoad(ctx: BenchContext): Promise<Figure[]> {
  assertTwoCores('the store load benchmark');
  const previous = await previousBuild(BEFORE_THE_STORE, ctx.log);
  const postgres = await startPostgres();
  const started: HubAuth[] = [];
  try {
    const serve = async (name: string, options: Partial<HubAuthOptions> = {}): Promise<HubAuth> => {
      const hubAuth = await startHubAuth({
        dir: join(ctx.dir, 'store-load', name),
        oidcIssuer: ctx.stack.idp.issuer,
        registryHost: ctx.registryHost,
        signing: ctx.stack.signing,
        ...options,
      });
      started.push(hubAuth);
      return hubAuth;
    };
    const onPostgres = {store: {url: {env: 'HUB_AUTH_STORE_URL'}}, env: {HUB_AUTH_STORE_URL: await postgres.database('bench_load')}};
    // The version before knows no `store` section: its state is the bindings file alone.
    const today = await serve('previous', {bin: previous.hubAuthBin, extra: {store: undefined}});
    const embedded = await serve('embedded');
    const server = await serve('postgres', onPostgres);
    for (const hubAuth of [today, embedded, server]) await pin(ctx, hubAuth.daemon);
    const loadFigures = await tokenLoadFigures(ctx, {today, embedded, server}, previous.commit.slice(0, 7));

    const instances = await Promise.all(['a', 'b', 'c'].map((name) => serve(`scale-${name}`, onPostgres)));
    return [...loadFigures, ...(await revocationFigures(ctx, instances))];
  } finally {
    for (const hubAuth of started.reverse()) await hubAuth.stop();
    await postgres.remove();
  }
}

const tokenQuery = `/token?service=${SERVICE}&scope=${encodeURIComponent(BENCH_SCOPE)}`;

/** A POST of an OAuth2 form to hub-auth, as docker sends its token requests. */
const postForm = (hubAuth: HubAuth, path: string, form: Record<string, string>) =>
  fetch(`${hubAuth.url}${path}`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams(form).toString(),
  });

const tokenForm = (form: Record<string, string>) => ({service: SERVICE, client_id: 'docker', scope: BENCH_SCOPE, ...form});

/** docker login's password grant with an access token, offline: the identity token it keeps. */
async function identityToken(hubAuth: HubAuth, accessToken: string): Promise<string> {
  const form = tokenForm({grant_type: 'password', username: 'alice', password: accessToken, access_type: 'offline'});
  const response = await postForm(hubAuth, '/token', form);
  const body = (await response.json()) as {refresh_token?: string};
  if (response.status !== 200 || !body.refresh_token)
    throw new Error(`hub-auth gave no identity token: ${response.status} ${JSON.stringify(body)}`);
  return body.refresh_token;
}

/** docker's refresh grant with that identity token: the answer's status. */
async function refreshGrant(hubAuth: HubAuth, token: string): Promise<number> {
  const response = await postForm(hubAuth, '/token', tokenForm({grant_type: 'refresh_token', refresh_token: token}));
  await response.arrayBuffer();
  return response.status;
}

async function tokenLoadFigures(
  ctx: BenchContext,
  servers: {today: HubAuth; embedded: HubAuth; server: HubAuth},
  commit: string,
): Promise<Figure[]> {
  const {settings} = ctx;
  const jwt = await jwtAccessToken(ctx);
  const access = (hubAuth: HubAuth): Omit<LoadPlan, 'connections'> => ({url: `${hubAuth.url}${tokenQuery}`, tokens: [jwt]});
  const refresh = async (hubAuth: HubAuth): Promise<Omit<LoadPlan, 'connections'>> => ({
    url: `${hubAuth.url}${tokenQuery}&client_id=docker`,
    tokens: [await identityToken(hubAuth, jwt)],
    grant: 'refresh_token',
  });
  const accessLoads = [
    {kind: 'access token, today', hubAuth: servers.today, plan: access(servers.today)},
    {kind: 'access token, PGlite', hubAuth: servers.embedded, plan: access(servers.embedded)},
    {kind: 'access token, PostgreSQL', hubAuth: servers.server, plan: access(servers.server)},
  ];
  const refreshLoads = [
    {kind: 'refresh grant, today', hubAuth: servers.today, plan: await refresh(servers.today)},
    {kind: 'refresh grant, PGlite', hubAuth: servers.embedded, plan: await refresh(servers.embedded)},
    {kind: 'refresh grant, PostgreSQL', hubAuth: servers.server, plan: await refresh(servers.server)},
  ];
  // A refused token would measure refusals: the benchmark stops instead.
  for (const hubAuth of Object.values(servers)) await recordAnswer(`${hubAuth.url}${tokenQuery}`, jwt);
  const load = (name: string, hubAuth: HubAuth, plan: LoadPlan) => {
    ctx.log(`store load: ${name}`);
    return runLoad(ctx, hubAuth.daemon.child.pid!, plan);
  };
  const runs = new Map<string, MeasuredLoad[]>();
  // Each comparison is a phase of its own, its kinds round after round, old and new in turn, so
  // that the machine's drift (one run of one build varies up to 2× over minutes here) hits both;
  // each round starts one kind later, so that no kind always follows the same one. The refresh
  // grant's phase comes second: its writes leave the database work to do (WAL, vacuum) that would
  // land on the access-token runs after them on this two-core machine.
  for (const loads of [accessLoads, refreshLoads]) {
    for (const {kind, hubAuth, plan} of loads)
      await load(`${kind}, warm-up`, hubAuth, {...plan, connections: settings.connections, seconds: settings.loadWarmupSeconds});
    for (let round = 0; round < settings.storeLoadRounds; round++) {
      const start = round % loads.length;
      for (const {kind, hubAuth, plan} of [...loads.slice(start), ...loads.slice(0, start)]) {
        const measured = await load(`${kind}, round ${round + 1}`, hubAuth, {
          ...plan,
          connections: settings.connections,
          seconds: settings.loadSeconds,
        });
        runs.set(kind, [...(runs.get(kind) ?? []), measured]);
      }
    }
  }

  const benchmark = `hub-auth GET /token, beside today's build (${commit}), ${settings.connections} connections, ${settings.loadSeconds} s runs`;
  const of = (kind: string, pick: (run: MeasuredLoad) => number) => summarize(runs.get(kind)!.map(pick));
  /**
   * The figures of `kind` beside `todays`'s: medians of every round, and (where the target is) the
   * median of each round's own ratio, new over old within minutes of each other, which the drift
   * between rounds does not move.
   */
  const against = (kind: string, todays: string, what: string, atLeast?: number): Figure[] => {
    const measures = [
      {name: 'requests per CPU-second', unit: 'req/CPU-s', per: ', per CPU-second', pick: (r: MeasuredLoad) => r.perCpuSecond},
      {name: 'requests/s', unit: 'req/s', per: '', pick: (r: MeasuredLoad) => r.perSecond},
      {name: 'p99 latency', unit: 'ms', per: '', pick: (r: MeasuredLoad) => r.p99Ms},
    ];
    const todaysRuns = runs.get(todays)!;
    const paired = runs.get(kind)!.map((run, round) => run.perCpuSecond / todaysRuns[round]!.perCpuSecond);
    return [
      ...measures.map(({name, unit, per, pick}) =>
        figure({
          benchmark,
          name: `${what}: ${name}`,
          unit,
          value: of(kind, pick),
          baseline: {name: `${todays}${per}`, value: of(todays, pick)},
        }),
      ),
      figure({
        benchmark,
        name: `${what}: requests per CPU-second over ${todays}'s in the same round`,
        unit: '×',
        value: summarize(paired),
        ...(atLeast === undefined ? {} : {target: {op: '>=' as const, value: atLeast}}),
      }),
    ];
  };
  const allRuns = [...runs.values()].flat();
  return [
    ...against('access token, PGlite', 'access token, today', 'access token (a push or pull with a fresh provider token), PGlite', 0.9),
    ...against('access token, PostgreSQL', 'access token, today', 'access token, PostgreSQL', 0.9),
    ...against('refresh grant, PostgreSQL', 'refresh grant, today', 'refresh grant (docker with its identity token), PostgreSQL', 0.8),
    ...against('refresh grant, PGlite', 'refresh grant, today', 'refresh grant, PGlite'),
    figure({benchmark, name: 'errors, all runs', unit: '', value: summarize(allRuns.map((r) => r.errors)), target: {op: '<=', value: 0}}),
  ];
}

/**
 * Round after round: a sign-in at one instance, its identity token working at all three, then
 * RFC 7009 revocation at one (as `hub logout` does) while the other two are asked the refresh
 * grant, one request after another, until they refuse it. The time is from sending the
 * revocation to each one's first refusal.
 */
async function revocationFigures(ctx: BenchContext, instances: HubAuth[]): Promise<Figure[]> {
  const jwt = await jwtAccessToken(ctx);
  const refusedAfter: number[] = [];
  const answeredAfter: number[] = [];
  for (let round = 0; round < ctx.settings.revocationRounds; round++) {
    const at = instances[round % instances.length]!;
    const others = instances.filter((instance) => instance !== at);
    const token = await identityToken(at, jwt);
    for (const instance of instances) {
      const status = await refreshGrant(instance, token);
      if (status !== 200) throw new Error(`a fresh identity token was refused (${status}) before its revocation`);
    }
    const sent = performance.now();
    const revoked = postForm(at, '/revoke', {token, token_type_hint: 'refresh_token'}).then(async (response) => {
      answeredAfter.push(performance.now() - sent);
      if (response.status !== 200) throw new Error(`the revocation was answered ${response.status}: ${await response.text()}`);
    });
    const refused = others.map(async (instance) => {
      while (performance.now() - sent < REFUSED_WITHIN_MS) {
        if ((await refreshGrant(instance, token)) !== 200) return refusedAfter.push(performance.now() - sent);
      }
      throw new Error(`an instance still took the identity token ${REFUSED_WITHIN_MS} ms after its revocation`);
    });
    await Promise.all([revoked, ...refused]);
  }
  const rounds = `${ctx.settings.revocationRounds} rounds`;
  return [
    figure({
      benchmark: REVOCATION,
      name: `POST /revoke sent at one → the identity token refused at each of the other two (${rounds})`,
      unit: 'ms',
      value: summarize(refusedAfter),
      target: {op: '<=', value: 1000},
    }),
    figure({benchmark: REVOCATION, name: `POST /revoke sent → answered (${rounds})`, unit: 'ms', value: summarize(answeredAfter)}),
  ];
}
