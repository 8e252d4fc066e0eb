import {readFile, writeFile} from 'node:fs/promises';
import {cpus} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {decodeJwt} from 'jose';
import {registryAudience} from '@hub/protocol/registry-audience';
import {SERVICE, startHubAuth, type HubAuth} from '@hub/test-stack/hub-auth';
import {CLI_CLIENT_ID, subjectOf, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {runCommand} from './commands.js';
import type {BenchContext} from './context.js';
import type {LoadPlan, LoadResult} from './load-client.js';
import {figure, type Figure} from './report.js';
import {summarize, type Summary} from './stats.js';

const SERVER_CORE = '0';
const CLIENT_CORE = '1';
const LOAD_CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));
const SIGN_RATE = fileURLToPath(new URL('./sign-rate.ts', import.meta.url));
const SCOPES = 'openid profile offline_access';

/** The bench's TypeScript children run through tsx, like `npm run bench` itself. */
const tsx = (script: string, args: string[]) => [process.execPath, '--import', 'tsx', script, ...args];

/**
 * hub-auth on one core, the load generator on the other: requests per second against the rate
 * at which that one core can sign the very token hub-auth hands out, which no token service
 * doing the same signature can pass.
 */
export async function benchHubAuthLoad(ctx: BenchContext): Promise<Figure[]> {
  const {stack, settings} = ctx;
  if (cpus().length < 2) throw new Error('the hub-auth benchmark needs two cores: one for hub-auth, one for the load generator');
  const hubAuth = await startHubAuth({dir: join(ctx.dir, 'hub-auth-load'), oidcIssuer: stack.idp.issuer, registryHost: ctx.registryHost, signing: stack.signing});
  try {
    const pid = String(hubAuth.daemon.child.pid);
    // Every thread (libuv's pool too), so that hub-auth has exactly one core.
    await runCommand('taskset', ['--all-tasks', '--cpu-list', '--pid', SERVER_CORE, pid], {env: ctx.env});
    const url = `${hubAuth.url}/token?service=${SERVICE}&scope=${encodeURIComponent('repository:alice/bench:pull,push')}`;
    const now = Math.floor(Date.now() / 1000);
    const jwt = await stack.idp.signWithProviderKey({
      iss: stack.idp.issuer,
      aud: registryAudience(ctx.registryHost),
      sub: subjectOf('alice'),
      preferred_username: 'alice',
      groups: ['dev'],
      client_id: CLI_CLIENT_ID,
      scope: SCOPES,
      iat: now,
      exp: now + 3600,
    });
    const registryClaims = decodeJwt(await registryToken(url, jwt));

    ctx.log('hub-auth load: how fast one core signs that token');
    const signLimit = {name: 'one core signing the same token (node:crypto ES256)', value: await signRate(ctx, registryClaims)};

    const load = (name: string, plan: Omit<LoadPlan, 'url'>): Promise<MeasuredLoad> => {
      ctx.log(`hub-auth load: ${name}`);
      return runLoad(ctx, hubAuth, {url, ...plan});
    };
    const sustained = async (kind: string, token: string): Promise<MeasuredLoad[]> => {
      await load(`${kind}, warm-up`, {tokens: [token], connections: settings.connections, seconds: settings.loadWarmupSeconds});
      const runs: MeasuredLoad[] = [];
      for (let round = 0; round < settings.loadRounds; round++) {
        runs.push(await load(`${kind}, round ${round + 1}`, {tokens: [token], connections: settings.connections, seconds: settings.loadSeconds}));
      }
      return runs;
    };
    const jwtRuns = await sustained('JWT access token', jwt);
    const audience = registryAudience(ctx.registryHost);
    const [warmOpaque] = await mintOpaqueTokens(stack.idp, 1, audience);
    // A refused token would measure refusals: the benchmark stops instead.
    await registryToken(url, warmOpaque!);
    const opaqueRuns = await sustained('opaque token, introspection cached', warmOpaque!);

    // A cache miss costs a round trip to the provider's introspection endpoint; one connection,
    // so the latency is that cost and not a queue. A cached token on one connection is the baseline.
    const cold: LoadResult[] = [];
    const cached: LoadResult[] = [];
    for (let round = 0; round < settings.loadRounds; round++) {
      // Minted per round: the provider's development store keeps only its last 1,000 entries.
      const tokens = await mintOpaqueTokens(stack.idp, settings.coldRequests, audience);
      cold.push(await load(`opaque, cache miss, round ${round + 1}`, {tokens, connections: 1, amount: tokens.length}));
      cached.push(await load(`opaque, cache hit on one connection, round ${round + 1}`, {tokens: [warmOpaque!], connections: 1, amount: tokens.length}));
    }

    const of = <Run>(runs: Run[], pick: (run: Run) => number): Summary => summarize(runs.map(pick));
    const benchmark = `hub-auth GET /token, ${settings.connections} connections, ${settings.loadSeconds} s runs`;
    const sustainedFigures = (token: string, runs: LoadResult[]) => [
      figure({benchmark, name: `${token}: requests/s`, unit: 'req/s', value: of(runs, (r) => r.perSecond), baseline: signLimit, target: {op: '>=', value: 0.5}}),
      figure({benchmark, name: `${token}: p50 latency`, unit: 'ms', value: of(runs, (r) => r.p50Ms)}),
      figure({benchmark, name: `${token}: p99 latency`, unit: 'ms', value: of(runs, (r) => r.p99Ms), target: {op: '<=', value: 20}}),
      figure({benchmark, name: `${token}: errors`, unit: '', value: of(runs, (r) => r.errors), target: {op: '<=', value: 0}}),
    ];
    const coldBenchmark = `hub-auth GET /token, opaque token, cache miss (a fresh token per request), 1 connection, ${settings.coldRequests} requests`;
    const hit = (pick: (run: LoadResult) => number) => ({name: 'cache hit, 1 connection', value: of(cached, pick)});
    return [
      ...sustainedFigures('JWT access token', jwtRuns),
      ...sustainedFigures('opaque token, introspection cached', opaqueRuns),
      figure({benchmark, name: 'hub-auth peak RSS in a run', unit: 'MB', value: of([...jwtRuns, ...opaqueRuns], (r) => r.peakRssMb), target: {op: '<=', value: 150}}),
      figure({benchmark: coldBenchmark, name: 'p50 latency', unit: 'ms', value: of(cold, (r) => r.p50Ms), baseline: hit((r) => r.p50Ms)}),
      figure({benchmark: coldBenchmark, name: 'p99 latency', unit: 'ms', value: of(cold, (r) => r.p99Ms), baseline: hit((r) => r.p99Ms)}),
      figure({benchmark: coldBenchmark, name: 'errors', unit: '', value: of(cold, (r) => r.errors), target: {op: '<=', value: 0}}),
    ];
  } finally {
    await hubAuth.stop();
  }
}

async function registryToken(url: string, accessToken: string): Promise<string> {
  const response = await fetch(url, {headers: {authorization: `Basic ${Buffer.from(`alice:${accessToken}`).toString('base64')}`}});
  const body = (await response.json()) as {token?: string};
  if (response.status !== 200 || !body.token) throw new Error(`hub-auth refused the benchmark's token: ${response.status} ${JSON.stringify(body)}`);
  return body.token;
}

async function signRate(ctx: BenchContext, claims: Record<string, unknown>): Promise<Summary> {
  const rates: number[] = [];
  for (let round = 0; round < ctx.settings.loadRounds; round++) {
    const sign = tsx(SIGN_RATE, [ctx.stack.signing.key, ctx.stack.signing.certificate, JSON.stringify(claims), String(ctx.settings.signSeconds)]);
    const output = await runCommand('taskset', ['--cpu-list', SERVER_CORE, ...sign], {env: ctx.env});
    rates.push((JSON.parse(output) as {perSecond: number}).perSecond);
  }
  return summarize(rates);
}

type MeasuredLoad = LoadResult & {peakRssMb: number};

/** One load run from the pinned load generator, with hub-auth's peak RSS during it. */
async function runLoad(ctx: BenchContext, hubAuth: HubAuth, plan: LoadPlan): Promise<MeasuredLoad> {
  const pid = hubAuth.daemon.child.pid!;
  // Writing 5 to clear_refs resets the kernel's peak-RSS mark, so VmHWM afterwards is this run's peak.
  await writeFile(`/proc/${pid}/clear_refs`, '5');
  const planFile = join(ctx.dir, 'load-plan.json');
  await writeFile(planFile, JSON.stringify(plan));
  const result = JSON.parse(await runCommand('taskset', ['--cpu-list', CLIENT_CORE, ...tsx(LOAD_CLIENT, [planFile])], {env: ctx.env})) as LoadResult;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const peakKb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  return {...result, peakRssMb: peakKb / 1024};
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
