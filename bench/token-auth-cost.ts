import {mkdir, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {freePort, waitFor} from '@hub/test-stack/ports';
import {startDaemon, type Daemon} from '@hub/test-stack/process';
import {runCommand} from './commands.js';
import type {BenchContext} from './context.js';
import type {BenchImage} from './image.js';
import {figure, type Figure} from './report.js';
import {summarize} from './stats.js';
import {describeImage, timedPush} from './transfer.js';

const USER = 'bench';
const PASSWORD = 'bench-password-not-secret';

/** The same docker-registry 2.8 as the one behind hub-auth, with basic auth from an htpasswd file instead. */
interface BasicAuthRegistry {
  host: string;
  /** Starts it again on empty storage, for the reason `BenchContext.freshRegistry` gives. */
  fresh(): Promise<void>;
  stop(): Promise<void>;
}

async function startBasicAuthRegistry(dir: string, env: NodeJS.ProcessEnv): Promise<BasicAuthRegistry> {
  await mkdir(dir, {recursive: true});
  const htpasswd = join(dir, 'htpasswd');
  // bcrypt, which is all distribution's htpasswd auth accepts.
  await writeFile(htpasswd, await runCommand('htpasswd', ['-Bbn', USER, PASSWORD], {env}));
  const port = await freePort();
  const storage = join(dir, 'storage');
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(storage)}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}", secret: "bench-only-not-secret"}`,
      `auth: {htpasswd: {realm: hub-bench, path: ${JSON.stringify(htpasswd)}}}`,
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const start = async (): Promise<Daemon> => {
    await rm(storage, {recursive: true, force: true});
    const daemon = startDaemon('docker-registry', ['serve', config]);
    try {
      await waitFor('docker-registry with htpasswd', async () => (await fetch(`${url}/v2/`)).status === 401);
    } catch (error) {
      await daemon.stop();
      throw new Error(`${(error as Error).message}\n${daemon.output()}`);
    }
    return daemon;
  };
  let daemon = await start();
  return {
    host: `127.0.0.1:${port}`,
    async fresh() {
      await daemon.stop();
      daemon = await start();
    },
    stop: () => daemon.stop(),
  };
}

/**
 * What token auth costs a push: plain `docker push` of the same image to the registry behind
 * hub-auth (docker-credential-hub, then a registry token per scope) and to the same registry
 * with htpasswd basic auth (after `docker login`, kept wherever docker keeps it by default).
 */
export async function benchTokenAuthCost(ctx: BenchContext, image: BenchImage): Promise<Figure[]> {
  const basic = await startBasicAuthRegistry(join(ctx.dir, 'basic-auth-registry'), ctx.env);
  try {
    await runCommand('docker', ['login', basic.host, '--username', USER, '--password-stdin'], {env: ctx.env, input: PASSWORD});
    const targets = {
      token: {fresh: () => ctx.freshRegistry(), host: ctx.registryHost, samples: [] as number[]},
      basic: {fresh: () => basic.fresh(), host: basic.host, samples: [] as number[]},
    };
    const order = ['token', 'basic'] as const;
    for (let round = 0; round < ctx.settings.transferRounds; round++) {
      for (const kind of round % 2 === 0 ? order : [...order].reverse()) {
        ctx.log(`token auth cost round ${round + 1}: docker push with ${kind} auth`);
        const target = targets[kind];
        await target.fresh();
        target.samples.push(await timedPush(ctx, image, 'docker', `${target.host}/alice/auth-${kind}-${round}:1`));
      }
    }
    return [
      figure({
        benchmark: 'Cost of token auth',
        name: `docker push via hub-auth (${describeImage(image)})`,
        unit: 's',
        value: summarize(targets.token.samples),
        baseline: {name: 'docker push, htpasswd basic auth', value: summarize(targets.basic.samples)},
        target: {op: '<=', value: 1.05},
      }),
    ];
  } finally {
    await basic.stop();
  }
}
