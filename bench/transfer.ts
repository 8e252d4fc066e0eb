import {runCommand, timeCommand} from './commands.js';
import type {BenchContext} from './context.js';
import type {BenchImage} from './image.js';
import {figure, type Figure} from './report.js';
import {summarize} from './stats.js';

const BENCHMARK = 'Push and pull';
/** docker's and hub's words for a layer that was not sent or fetched: such a run measured no transfer. */
const SKIPPED_LAYER = /Mounted from|Layer already exists|Already exists/;

export const describeImage = (image: BenchImage) => `${(image.bytes / 1024 / 1024).toFixed(1)} MB, ${image.layers} layers`;

/** Pushes `image` under `reference` (tagged just before) and returns the seconds it took. */
export async function timedPush(ctx: BenchContext, image: BenchImage, command: 'hub' | 'docker', reference: string): Promise<number> {
  await runCommand('docker', ['tag', image.id, reference], {env: ctx.env});
  const run = await timeCommand(command, ['push', reference], {env: ctx.env});
  assertTransferred(run.stdout + run.stderr, `${command} push ${reference}`);
  await runCommand('docker', ['rmi', reference], {env: ctx.env});
  return run.ms / 1000;
}

function assertTransferred(output: string, what: string): void {
  if (SKIPPED_LAYER.test(output)) throw new Error(`${what} skipped layers, so it measured no transfer:\n${output}`);
}

/**
 * `hub push`/`pull` against `docker push`/`pull` of the same image through the same engine and
 * registry; docker reaches hub-auth through docker-credential-hub, as after `hub login`. Every
 * push goes to an empty registry and every pull starts without the image, so each moves every layer.
 */
export async function benchTransfer(ctx: BenchContext, image: BenchImage): Promise<Figure[]> {
  const commands = ['hub', 'docker'] as const;
  const pushes = {hub: [] as number[], docker: [] as number[]};
  let last = '';
  for (let round = 0; round < ctx.settings.transferRounds; round++) {
    for (const command of round % 2 === 0 ? commands : [...commands].reverse()) {
      ctx.log(`push round ${round + 1}: ${command} push`);
      await ctx.freshRegistry();
      last = `${ctx.registryHost}/alice/bench-${command}-${round}:1`;
      pushes[command].push(await timedPush(ctx, image, command, last));
    }
  }
  // The last push stays in the registry: every pull fetches it.
  const pulls = {hub: [] as number[], docker: [] as number[]};
  for (let round = 0; round < ctx.settings.transferRounds; round++) {
    for (const command of round % 2 === 0 ? commands : [...commands].reverse()) {
      ctx.log(`pull round ${round + 1}: ${command} pull`);
      // By ID, with every tag: only then does the engine drop the layers, so the pull fetches them all.
      await runCommand('docker', ['image', 'rm', '--force', image.id], {env: ctx.env});
      const run = await timeCommand(command, ['pull', last], {env: ctx.env});
      assertTransferred(run.stdout + run.stderr, `${command} pull ${last}`);
      pulls[command].push(run.ms / 1000);
    }
  }
  const size = describeImage(image);
  return [
    figure({
      benchmark: BENCHMARK,
      name: `hub push (${size})`,
      unit: 's',
      value: summarize(pushes.hub),
      baseline: {name: 'docker push', value: summarize(pushes.docker)},
      target: {op: '<=', value: 1.05},
    }),
    figure({
      benchmark: BENCHMARK,
      name: `hub pull (${size})`,
      unit: 's',
      value: summarize(pulls.hub),
      baseline: {name: 'docker pull', value: summarize(pulls.docker)},
      target: {op: '<=', value: 1.05},
    }),
  ];
}
