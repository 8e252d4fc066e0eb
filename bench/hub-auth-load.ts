import {writeFile} from 'node:fs/promises';
import {get} from 'node:http';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {decodeJwt} from 'jose';
import {registryAudience} from '@hub/protocol/registry-audience';
import {SERVICE, startHubAuth, type HubAuth} from '@hub/test-stack/hub-auth';
import {CLI_CLIENT_ID, subjectOf, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {startDaemon, waitForOutput} from '@hub/test-stack/process';
import {githubActionsClaims, workloadSigner} from '@hub/test-stack/workload-issuer';
import {runCommand} from './commands.js';
import type {BenchContext} from './context.js';
import type {LoadPlan, LoadResult} from './load-client.js';
import type {LimitServer, RecordedResponse} from './http-limit-server.js';
import {assertTwoCores, pin, runLoad, SERVER_CORE, tsx, type MeasuredLoad} from './pinned-load.js';
import {figure, type Figure} from './report.js';
import {summarize, type Summary} from './stats.js';

const SIGN_RATE = fileURLToPath(new URL('./sign-rate.ts', import.meta.url));
const HTTP_LIMIT_SERVER = fileURLToPath(new URL('./http-limit-server.ts', import.meta.url));
const SCOPES = 'openid profile offline_access';

/** Headers node:http writes itself on every answer, so the bare server's answer must not repeat them. */
const WRITTEN_BY_NODE = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * hub-auth on one core, the load generator on the other, against two limits measured on the same
 * core in the same run: a bare node:http server answering the very bytes hub-auth answers (no
 * token service on node's HTTP stack can pass it), and, for hub-auth signing every token
 * (tokenReuseSeconds: 0), the rate at which that core signs it.
 *
 * Each kind of load gets a hub-auth of its own, so that its peak RSS and, with BENCH_CPU_PROFILE
 * set to a directory, its CPU profile (node --cpu-prof, written when the bench stops it) are that
 * load's alone.
 */
export async function benchHubAuthLoad(ctx: BenchContext): Promise<Figure[]> {
  const {stack, settings} = ctx;
  assertTwoCores('the hub-auth benchmark');
  const started: Array<{stop(): Promise<void>}> = [];
  try {
    const serve = async (name: string, extra: Record<string, unknown> = {}): Promise<HubAuth> => {
      const profileDir = process.env.BENCH_CPU_PROFILE;
      const hubAuth = await startHubAuth({
        // A directory each: its embedded store opens in one process only (four ran on one before the lock).
        dir: join(ctx.dir, 'hub-auth-load', name),
        oidcIssuer: stack.idp.issuer,
        registryHost: ctx.registryHost,
        signing: stack.signing,
        extra,
        ...(profileDir ? {nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=hub-auth-${name}.cpuprofile`]} : {}),
      });
      started.push(hubAuth);
      await pin(ctx, hubAuth.daemon);
      return hubAuth;
    };
    const reusing = {jwt: await serve('jwt'), opaque: await serve('opaque'), opaqueMisses: await serve('opaque-misses')};
    const signingEach = await serve('no-reuse', {tokenReuseSeconds: 0});
    // A CI job's token (workloads.issuers, keys from a file): the same route, the workload checks instead of the provider's.
    const ci = await workloadSigner('https://token.actions.bench.example');
    await ci.writeJwksFile(join(ctx.dir, 'workload-jwks.json'));
    const workloadIssuer = {name: 'gha', issuer: ci.issuer, jwksFile: join(ctx.dir, 'workload-jwks.json'), robot: '{repository:2}'};
    const workloads = await serve('workload', {workloads: {issuers: [workloadIssuer]}});
    const query = `/token?service=${SERVICE}&scope=${encodeURIComponent(BENCH_SCOPE)}`;
    const jwt = await jwtAccessToken(ctx);
    const answer = await recordAnswer(`${reusing.jwt.url}${query}`, jwt);
    const registryClaims = decodeJwt((JSON.parse(answer.body) as {token: string}).token);
    const audience = registryAudience(ctx.registryHost);
    const [warmOpaque] = await mintOpaqueTokens(stack.idp, 1, audience);
    // A refused token would measure refusals: the benchmark stops instead.
    await recordAnswer(`${reusing.opaque.url}${query}`, warmOpaque!);
    await recordAnswer(`${signingEach.url}${query}`, jwt);
    const workloadToken = await ci.mint(githubActionsClaims('acme/bench'), registryAudience(ctx.registryHost), {expiresIn: 3600});
    const workloadQuery = `/token?service=${SERVICE}&scope=${encodeURIComponent('repository:workloads/gha/acme/bench/app:pull,push')}`;
    await recordAnswer(`${workloads.url}${workloadQuery}`, workloadToken);

    const answerFile = join(ctx.dir, 'hub-auth-answer.json');
    await writeFile(answerFile, JSON.stringify(answer));
    const limitServer = async (kind: LimitServer, ...args: string[]): Promise<{url: string; pid: number}> => {
      const server = startDaemon('taskset', ['--cpu-list', SERVER_CORE, ...tsx(HTTP_LIMIT_SERVER, [answerFile, kind, ...args])], {
        env: ctx.env,
      });
      started.push(server);
      const port = /^listening (\d+)$/m.exec(await waitForOutput(server, /^listening \d+$/m, 20_000))?.[1];
      if (!port) throw new Error(`the ${kind} limit server did not start:\n${server.output()}`);
      return {url: `http://127.0.0.1:${port}${query}`, pid: server.child.pid!};
    };
    const bare = await limitServer('node:http');
    const bareFastify = await limitServer('fastify');
    const bareSigning = await limitServer(
      'node:http-signing',
      stack.signing.key,
      stack.signing.certificate,
      JSON.stringify(registryClaims),
    );

    const loads: Array<{kind: string; target: {pid: number}; plan: Omit<LoadPlan, 'connections' | 'seconds'>}> = [
      {kind: 'bare node:http', target: bare, plan: {url: bare.url, tokens: [jwt]}},
      {kind: 'bare fastify', target: bareFastify, plan: {url: bareFastify.url, tokens: [jwt]}},
      {kind: 'bare node:http signing each answer', target: bareSigning, plan: {url: bareSigning.url, tokens: [jwt]}},
      {kind: 'JWT access token', target: {pid: reusing.jwt.daemon.child.pid!}, plan: {url: `${reusing.jwt.url}${query}`, tokens: [jwt]}},
      {
        kind: 'opaque token, introspection cached',
        target: {pid: reusing.opaque.daemon.child.pid!},
        plan: {url: `${reusing.opaque.url}${query}`, tokens: [warmOpaque!]},
      },
      {
        kind: 'workload token (CI job)',
        target: {pid: workloads.daemon.child.pid!},
        plan: {url: `${workloads.url}${workloadQuery}`, tokens: [workloadToken]},
      },
      {
        kind: 'JWT, tokenReuseSeconds: 0',
        target: {pid: signingEach.daemon.child.pid!},
        plan: {url: `${signingEach.url}${query}`, tokens: [jwt]},
      },
    ];
    const load = (name: string, pid: number, plan: LoadPlan): Promise<MeasuredLoad> => {
      ctx.log(`hub-auth load: ${name}`);
      return runLoad(ctx, pid, plan);
    };
    for (const {kind, target, plan} of loads)
      await load(`${kind}, warm-up`, target.pid, {...plan, connections: settings.connections, seconds: settings.loadWarmupSeconds});
    ctx.log('hub-auth load: how fast one core signs that token');
    const signRates = await signRate(ctx, registryClaims);
    const signLimit = {name: 'one core signing the same token (node:crypto ES256)', value: signRates.wall};
    const signCpuLimit = {name: 'signatures of the same token per CPU-second', value: signRates.cpu};
    // Round after round of every kind, so that a change in the machine's load touches them alike.
    const runs = new Map<string, MeasuredLoad[]>(loads.map(({kind}) => [kind, []]));
    for (let round = 0; round < settings.loadRounds; round++) {
      for (const {kind, target, plan} of loads) {
        runs.get(kind)!.push(
          await load(`${kind}, round ${round + 1}`, target.pid, {
            ...plan,
            connections: settings.connections,
            seconds: settings.loadSeconds,
          }),
        );
      }
    }

    // A cache miss costs a round trip to the provider's introspection endpoint; one connection,
    // so the latency is that cost and not a queue. A cached token on one connection is the baseline.
    const cold: LoadResult[] = [];
    const cached: LoadResult[] = [];
    const opaqueUrl = `${reusing.opaqueMisses.url}${query}`;
    const opaquePid = reusing.opaqueMisses.daemon.child.pid!;
    await recordAnswer(opaqueUrl, warmOpaque!);
    for (let round = 0; round < settings.loadRounds; round++) {
      // Minted per round: the provider's development store keeps only its last 1,000 entries.
      const tokens = await mintOpaqueTokens(stack.idp, settings.coldRequests, audience);
      cold.push(
        await load(`opaque, cache miss, round ${round + 1}`, opaquePid, {url: opaqueUrl, tokens, connections: 1, amount: tokens.length}),
      );
      cached.push(
        await load(`opaque, cache hit on one connection, round ${round + 1}`, opaquePid, {
          url: opaqueUrl,
          tokens: [warmOpaque!],
          connections: 1,
          amount: tokens.length,
        }),
      );
    }

    const of = <Run>(list: Run[], pick: (run: Run) => number): Summary => summarize(list.map(pick));
    const benchmark = `hub-auth GET /token, ${settings.connections} connections, ${settings.loadSeconds} s runs`;
    const bareRuns = runs.get('bare node:http')!;
    const httpLimit = {name: 'bare node:http server, the same answer', value: of(bareRuns, (r) => r.perSecond)};
    const httpCpuLimit = {name: 'bare node:http server, per CPU-second', value: of(bareRuns, (r) => r.perCpuSecond)};
    type Limit = {name: string; value: Summary};
    const sustainedFigures = (kind: string, limit: Limit, cpuLimit: Limit, atLeast: number) => {
      const list = runs.get(kind)!;
      return [
        figure({
          benchmark,
          name: `${kind}: requests/s`,
          unit: 'req/s',
          value: of(list, (r) => r.perSecond),
          baseline: limit,
          target: {op: '>=', value: atLeast},
        }),
        figure({
          benchmark,
          name: `${kind}: requests per CPU-second`,
          unit: 'req/CPU-s',
          value: of(list, (r) => r.perCpuSecond),
          baseline: cpuLimit,
          target: {op: '>=', value: atLeast},
        }),
        figure({benchmark, name: `${kind}: p50 latency`, unit: 'ms', value: of(list, (r) => r.p50Ms)}),
        figure({benchmark, name: `${kind}: p99 latency`, unit: 'ms', value: of(list, (r) => r.p99Ms), target: {op: '<=', value: 20}}),
        figure({benchmark, name: `${kind}: errors`, unit: '', value: of(list, (r) => r.errors), target: {op: '<=', value: 0}}),
      ];
    };
    const perCpuSecondOf = (kind: string): Limit => ({name: `${kind}, per CPU-second`, value: of(runs.get(kind)!, (r) => r.perCpuSecond)});
    const hubAuthRuns = loads.filter(({kind}) => !kind.startsWith('bare ')).flatMap(({kind}) => runs.get(kind)!);
    const coldBenchmark = `hub-auth GET /token, opaque token, cache miss (a fresh token per request), 1 connection, ${settings.coldRequests} requests`;
    const hit = (pick: (run: LoadResult) => number) => ({name: 'cache hit, 1 connection', value: of(cached, pick)});
    return [
      // Whether the signing target can be met at all: no server on node's HTTP stack passes this.
      figure({benchmark, name: 'bare node:http server: requests/s', unit: 'req/s', value: httpLimit.value, baseline: signLimit}),
      figure({
        benchmark,
        name: 'bare node:http server: requests per CPU-second',
        unit: 'req/CPU-s',
        value: httpCpuLimit.value,
        baseline: signCpuLimit,
      }),
      ...sustainedFigures('JWT access token', httpLimit, httpCpuLimit, 0.6),
      ...sustainedFigures('opaque token, introspection cached', httpLimit, httpCpuLimit, 0.6),
      ...sustainedFigures('JWT, tokenReuseSeconds: 0', signLimit, signCpuLimit, 0.5),
      // A workload token against a person's JWT, each with its registry token reused: the workload checks' own cost.
      figure({
        benchmark,
        name: 'workload token (CI job): requests/s',
        unit: 'req/s',
        value: of(runs.get('workload token (CI job)')!, (r) => r.perSecond),
        baseline: {name: 'JWT access token', value: of(runs.get('JWT access token')!, (r) => r.perSecond)},
        target: {op: '>=', value: 0.8},
      }),
      // What the framework and a signature per answer cost on their own, and hub-auth against
      // those limits: how much of the gap is hub-auth's own work.
      figure({
        benchmark,
        name: 'bare fastify: requests per CPU-second',
        unit: 'req/CPU-s',
        value: perCpuSecondOf('bare fastify').value,
        baseline: httpCpuLimit,
      }),
      figure({
        benchmark,
        name: 'JWT access token: requests per CPU-second',
        unit: 'req/CPU-s',
        value: perCpuSecondOf('JWT access token').value,
        baseline: perCpuSecondOf('bare fastify'),
      }),
      figure({
        benchmark,
        name: 'bare node:http signing each answer: requests per CPU-second',
        unit: 'req/CPU-s',
        value: perCpuSecondOf('bare node:http signing each answer').value,
        baseline: signCpuLimit,
      }),
      figure({
        benchmark,
        name: 'JWT, tokenReuseSeconds: 0: requests per CPU-second',
        unit: 'req/CPU-s',
        value: perCpuSecondOf('JWT, tokenReuseSeconds: 0').value,
        baseline: perCpuSecondOf('bare node:http signing each answer'),
        target: {op: '>=', value: 0.6},
      }),
      figure({
        benchmark,
        name: 'hub-auth peak RSS in a run',
        unit: 'MB',
        value: of(hubAuthRuns, (r) => r.peakRssMb),
        target: {op: '<=', value: 150},
      }),
      figure({benchmark: coldBenchmark, name: 'p50 latency', unit: 'ms', value: of(cold, (r) => r.p50Ms), baseline: hit((r) => r.p50Ms)}),
      figure({benchmark: coldBenchmark, name: 'p99 latency', unit: 'ms', value: of(cold, (r) => r.p99Ms), baseline: hit((r) => r.p99Ms)}),
      figure({benchmark: coldBenchmark, name: 'errors', unit: '', value: of(cold, (r) => r.errors), target: {op: '<=', value: 0}}),
    ];
  } finally {
    for (const service of started.reverse()) await service.stop();
  }
}

/** What every load asks for: push and pull in alice's own namespace. */
export const BENCH_SCOPE = 'repository:alice/bench:pull,push';

/** A JWT access token of alice's, as the provider signs one for hub's login, valid for an hour. */
export async function jwtAccessToken(ctx: BenchContext): Promise<string> {
  const {idp} = ctx.stack;
  const now = Math.floor(Date.now() / 1000);
  return idp.signWithProviderKey({
    iss: idp.issuer,
    aud: registryAudience(ctx.registryHost),
    sub: subjectOf('alice'),
    preferred_username: 'alice',
    groups: ['dev'],
    client_id: CLI_CLIENT_ID,
    scope: SCOPES,
    iat: now,
    exp: now + 3600,
  });
}

/** hub-auth's answer to a token request, as the bare server is to repeat it. */
export async function recordAnswer(url: string, accessToken: string): Promise<RecordedResponse> {
  const response = await new Promise<{status: number; headers: Array<[string, string]>; body: string}>((resolve, reject) => {
    const request = get(
      url,
      {agent: false, headers: {authorization: `Basic ${Buffer.from(`alice:${accessToken}`).toString('base64')}`}},
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.once('end', () => {
          const headers: Array<[string, string]> = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          resolve({status: res.statusCode ?? 0, headers, body});
        });
        res.once('error', reject);
      },
    );
    request.once('error', reject);
  });
  if (response.status !== 200 || !(JSON.parse(response.body) as {token?: string}).token) {
    throw new Error(`hub-auth refused the benchmark's token: ${response.status} ${response.body}`);
  }
  return {...response, headers: response.headers.filter(([name]) => !WRITTEN_BY_NODE.has(name.toLowerCase()))};
}

/** Signatures per second of wall time and per CPU-second of the signing process. */
async function signRate(ctx: BenchContext, claims: Record<string, unknown>): Promise<{wall: Summary; cpu: Summary}> {
  const rates: Array<{perSecond: number; perCpuSecond: number}> = [];
  for (let round = 0; round < ctx.settings.loadRounds; round++) {
    const sign = tsx(SIGN_RATE, [
      ctx.stack.signing.key,
      ctx.stack.signing.certificate,
      JSON.stringify(claims),
      String(ctx.settings.signSeconds),
    ]);
    const output = await runCommand('taskset', ['--cpu-list', SERVER_CORE, ...sign], {env: ctx.env});
    rates.push(JSON.parse(output) as {perSecond: number; perCpuSecond: number});
  }
  return {wall: summarize(rates.map((r) => r.perSecond)), cpu: summarize(rates.map((r) => r.perCpuSecond))};
}

/**
 * Opaque access tokens straight from the provider's models, as its token endpoint makes them for
 * a login that asks for the registry's audience: under a grant, for hub's client, carrying the
 * username and groups.
 */
async function mintOpaqueTokens(idp: IdentityProvider, count: number, audience: string): Promise<string[]> {
  const {provider} = idp;
  const accountId = subjectOf('alice');
  const client = await provider.Client.find(CLI_CLIENT_ID);
  if (!client) throw new Error(`the identity provider has no client ${CLI_CLIENT_ID}`);
  const grant = new provider.Grant({accountId, clientId: CLI_CLIENT_ID});
  grant.addOIDCScope(SCOPES);
  const grantId = await grant.save();
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const token = new provider.AccessToken({accountId, client, grantId, gty: 'authorization_code', scope: SCOPES});
    token.setAudience(audience);
    tokens.push(await token.save());
  }
  return tokens;
}
