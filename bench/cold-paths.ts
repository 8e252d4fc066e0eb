import {get} from 'node:http';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {freePort} from '@hub/test-stack/ports';
import {startDaemon, type Daemon} from '@hub/test-stack/process';
import {runCommand, timeCommand} from './commands.js';
import type {BenchContext} from './context.js';
import {loadLayeredImage} from './image.js';
import {loginAlice} from './login.js';
import {figure, type Figure} from './report.js';
import {summarize} from './stats.js';

const BENCHMARK = 'Cold paths';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Small, so that the pull's time is mostly the auth round trips that a cold hub-auth makes slower. */
const COLD_IMAGE_LAYERS = [64 * 1024];
// Generous: on a machine shared with other work, hub-auth has been seen to take 20 s.
const READY_TIMEOUT_MS = 90_000;

/**
 * The least a fastify service can do before it answers: load fastify, register one route, listen.
 * Run from the project root, so that `fastify` resolves to the one hub-auth uses.
 */
const BARE_FASTIFY = `
const {default: Fastify} = await import('fastify');
const app = Fastify();
app.get('/readyz', async () => 'ok');
await app.listen({host: '127.0.0.1', port: Number(process.argv[1])});
`;

/**
 * What a user meets first: the first `docker pull` after `hub login` from a hub-auth that has just
 * started (no provider keys or introspection answers, no compiled policy yet) against the same pull
 * right after it, and hub-auth's way from its start to ready (/readyz answering 200) against a bare
 * fastify's start to its first answer and against `node -e 0`.
 */
export async function benchColdPaths(ctx: BenchContext): Promise<Figure[]> {
  const {env, settings, stack} = ctx;
  ctx.log('cold paths: a small image to pull');
  const image = await loadLayeredImage(env, join(ctx.dir, 'cold-paths'), COLD_IMAGE_LAYERS);
  const reference = `${ctx.registryHost}/alice/cold-path:1`;
  await runCommand('docker', ['tag', image.id, reference], {env});
  await runCommand('docker', ['push', reference], {env});

  const coldPulls: number[] = [];
  const warmPulls: number[] = [];
  const hubAuthReady: number[] = [];
  const fastifyReady: number[] = [];
  const nodeExit: number[] = [];
  const monitoring = new URL('/readyz', stack.hubAuth.monitoringUrl).href;
  const pull = async () => {
    // By ID, with every tag, so that the pull fetches the layer and not just the manifest.
    await runCommand('docker', ['image', 'rm', '--force', image.id], {env});
    return (await timeCommand('docker', ['pull', reference], {env})).ms;
  };
  for (let round = 0; round < settings.coldRounds; round++) {
    ctx.log(`cold paths round ${round + 1}: hub-auth restarted, hub login, docker pull twice`);
    const daemon = await ctx.restartHubAuth();
    hubAuthReady.push(await msUntilReady(monitoring, daemon));
    await loginAlice(ctx);
    coldPulls.push(await pull());
    warmPulls.push(await pull());
    fastifyReady.push(await bareFastifyReadyMs());
    nodeExit.push((await timeCommand(process.execPath, ['-e', '0'], {env})).ms);
  }
  const hubAuthStart = summarize(hubAuthReady);
  return [
    figure({
      benchmark: BENCHMARK,
      name: `first docker pull after hub login, hub-auth just started (${COLD_IMAGE_LAYERS.length} layer of ${COLD_IMAGE_LAYERS[0]! / 1024} KiB)`,
      unit: 'ms',
      value: summarize(coldPulls),
      baseline: {name: 'the same pull right after (hub-auth warm)', value: summarize(warmPulls)},
    }),
    figure({
      benchmark: BENCHMARK,
      name: 'hub-auth serve: start → /readyz 200',
      unit: 'ms',
      value: hubAuthStart,
      baseline: {name: 'bare fastify: start → first 200', value: summarize(fastifyReady)},
    }),
    figure({
      benchmark: BENCHMARK,
      name: 'hub-auth serve: start → /readyz 200',
      unit: 'ms',
      value: hubAuthStart,
      baseline: {name: 'node -e 0', value: summarize(nodeExit)},
    }),
  ];
}

async function bareFastifyReadyMs(): Promise<number> {
  const port = await freePort();
  const daemon = startDaemon(process.execPath, ['--input-type=module', '-e', BARE_FASTIFY, String(port)], {cwd: ROOT});
  try {
    return await msUntilReady(`http://127.0.0.1:${port}/readyz`, daemon);
  } finally {
    await daemon.stop();
  }
}

/**
 * Milliseconds from the daemon's spawn (taken as now: call it right after spawning) until `url`
 * answers 200, polled every millisecond or so; both sides of a ratio are timed by this same poll.
 */
export async function msUntilReady(url: string, daemon: Daemon): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < READY_TIMEOUT_MS) {
    if (daemon.child.exitCode !== null) break;
    if ((await statusOf(url)) === 200) return performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`${url} did not answer 200 within ${READY_TIMEOUT_MS / 1000} s:\n${daemon.output()}`);
}

function statusOf(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    // A fresh connection each time: a refused one is the common answer while the service starts.
    const request = get(url, {agent: false}, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.once('error', () => resolve(undefined));
  });
}
