import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {USERS} from '@hub/test-stack/identity-provider';
import {runHub} from '@hub/test-stack/hub-cli';
import {runCommand, timeCommand, type CommandRun} from './commands.js';
import type {BenchContext} from './context.js';
import {loadLayeredImage} from './image.js';
import {figure, type Figure} from './report.js';
import {summarize} from './stats.js';
import {describeImage} from './transfer.js';

const BENCHMARK = 'Long push and pull';
/** Shorter than each transfer: the engine must hold a credential that outlives the access token. */
const ACCESS_TOKEN_SECONDS = 5;
const SAMPLE_MS = 50;

/**
 * A push and a pull of a big image (1 GB; the smoke run a tiny one), hub against docker through
 * the same engine and registry, with access tokens that expire within each transfer: the engine
 * holds docker's identity token and trades it at hub-auth for registry tokens. hub's peak RSS
 * during each shows that the layers stream from the engine to the registry without passing
 * through hub, whatever their size.
 */
export async function benchLongTransfer(ctx: BenchContext): Promise<Figure[]> {
  const {settings, stack} = ctx;
  ctx.log(
    `making the ${describeImage({bytes: settings.longLayerBytes.reduce((a, b) => a + b, 0), layers: settings.longLayerBytes.length, id: ''})} image`,
  );
  const image = await loadLayeredImage(ctx.env, join(ctx.dir, 'long'), settings.longLayerBytes);
  stack.idp.behave({accessTokenTtl: ACCESS_TOKEN_SECONDS});
  try {
    await signInAgain(ctx);
    const trades = await identityTokenTrades(ctx);
    const pushes = {hub: [] as number[], docker: [] as number[]};
    const pulls = {hub: [] as number[], docker: [] as number[]};
    const peakMb = {push: [] as number[], pull: [] as number[]};
    let last = '';
    for (let round = 0; round < settings.longTransferRounds; round++) {
      for (const command of round % 2 === 0 ? (['hub', 'docker'] as const) : (['docker', 'hub'] as const)) {
        ctx.log(`long push round ${round + 1}: ${command} push`);
        await ctx.freshRegistry();
        last = `${ctx.registryHost}/alice/long-${command}-${round}:1`;
        await runCommand('docker', ['tag', image.id, last], {env: ctx.env});
        const {run, peak} = await measured(ctx, command, ['push', last]);
        pushes[command].push(run.ms / 1000);
        if (peak !== undefined) peakMb.push.push(peak);
        await runCommand('docker', ['rmi', last], {env: ctx.env});
      }
    }
    for (let round = 0; round < settings.longTransferRounds; round++) {
      for (const command of round % 2 === 0 ? (['hub', 'docker'] as const) : (['docker', 'hub'] as const)) {
        ctx.log(`long pull round ${round + 1}: ${command} pull`);
        await runCommand('docker', ['image', 'rm', '--force', image.id], {env: ctx.env});
        const {run, peak} = await measured(ctx, command, ['pull', last]);
        pulls[command].push(run.ms / 1000);
        if (peak !== undefined) peakMb.pull.push(peak);
      }
    }
    // Every transfer went through the identity token (docker's and hub's alike), not a stale access token.
    const traded = (await identityTokenTrades(ctx)) - trades;
    if (traded < 4 * settings.longTransferRounds)
      throw new Error(
        `hub-auth traded ${traded} identity tokens for ${4 * settings.longTransferRounds} transfers: the engine did not use one`,
      );
    await runCommand('docker', ['image', 'rm', '--force', image.id], {env: ctx.env});
    const size = `${describeImage(image)}; access token ${ACCESS_TOKEN_SECONDS} s`;
    return [
      transferFigure(`hub push (${size})`, pushes, 'docker push'),
      transferFigure(`hub pull (${size})`, pulls, 'docker pull'),
      ...(['push', 'pull'] as const).map((operation) =>
        figure({
          benchmark: BENCHMARK,
          name: `hub peak RSS during hub ${operation} (${describeImage(image)})`,
          unit: 'MB',
          value: summarize(peakMb[operation]),
          target: {op: '<=', value: 150},
        }),
      ),
    ];
  } finally {
    // The later benchmarks use the session as login left it: good for an hour.
    stack.idp.behave({accessTokenTtl: 3600});
    await signInAgain(ctx);
  }
}

function transferFigure(name: string, seconds: {hub: number[]; docker: number[]}, baseline: string): Figure {
  return figure({
    benchmark: BENCHMARK,
    name,
    unit: 's',
    value: summarize(seconds.hub),
    baseline: {name: baseline, value: summarize(seconds.docker)},
    target: {op: '<=', value: 1.03},
  });
}

/** The run, and for hub its peak RSS in MB: the kernel's high-water mark, read until it exits. */
async function measured(ctx: BenchContext, command: 'hub' | 'docker', args: string[]): Promise<{run: CommandRun; peak?: number}> {
  if (command === 'docker') return {run: await timeCommand(command, args, {env: ctx.env})};
  let peakKb = 0;
  let sampler: NodeJS.Timeout | undefined;
  const sample = async (pid: number) => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    peakKb = Math.max(peakKb, Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0));
  };
  try {
    const run = await timeCommand(command, args, {
      env: ctx.env,
      onSpawn: (pid) => (sampler = setInterval(() => void sample(pid), SAMPLE_MS)),
    });
    if (peakKb === 0) throw new Error(`no memory sample of ${command} ${args.join(' ')}: it ended within ${SAMPLE_MS} ms`);
    return {run, peak: peakKb / 1024};
  } finally {
    clearInterval(sampler);
  }
}

/** A new login, so that the session holds an access token of the lifetime now set at the provider. */
async function signInAgain(ctx: BenchContext): Promise<void> {
  const login = runHub(['login', ctx.registryHost, '--issuer', ctx.stack.idp.issuer, '--client-id', ctx.stack.idp.clientId], ctx.env);
  await ctx.stack.browser.signIn(await ctx.stack.browser.nextUrl(), USERS[0]!);
  const result = await login;
  if (result.code !== 0) throw new Error(`hub login failed:\n${result.stderr}`);
}

/** Registry tokens hub-auth issued for docker's identity token (grant_type=refresh_token). */
async function identityTokenTrades(ctx: BenchContext): Promise<number> {
  const text = await (await fetch(`${ctx.stack.hubAuth.monitoringUrl}/metrics`)).text();
  return Number(/^hub_auth_token_requests_total\{grant="refresh_token",outcome="issued"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}
