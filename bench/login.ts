import {performance} from 'node:perf_hooks';
import {runHub} from '@hub/test-stack/hub-cli';
import {USERS} from '@hub/test-stack/identity-provider';
import type {BenchContext} from './context.js';
import {figure, type Figure} from './report.js';
import {summarize} from './stats.js';

const BENCHMARK = 'Login';
const TIMING = /^hub-timing callback_to_stored_ms=([\d.]+)$/m;

/** `hub login` as alice, signed in through Chromium; the milliseconds it took and what hub wrote to stderr. */
export async function loginAlice(ctx: BenchContext): Promise<{ms: number; stderr: string}> {
  const {stack} = ctx;
  const start = performance.now();
  const login = runHub(['login', ctx.registryHost, '--issuer', stack.idp.issuer, '--client-id', stack.idp.clientId], {
    ...ctx.env,
    HUB_TIMING: '1',
  });
  await stack.browser.signIn(await stack.browser.nextUrl(), USERS[0]!);
  const result = await login;
  const ms = performance.now() - start;
  if (result.code !== 0) throw new Error(`hub login failed:\n${result.stderr}`);
  return {ms, stderr: result.stderr};
}

/**
 * `hub login` signed in through Chromium, as the end-to-end tests do. Each round leaves alice
 * logged in to the registry with JWT access tokens (the registry's audience), the session the
 * later benchmarks use.
 */
export async function benchLogin(ctx: BenchContext): Promise<Figure[]> {
  const wall: number[] = [];
  const callbackToStored: number[] = [];
  for (let round = 0; round < ctx.settings.loginRounds; round++) {
    const {ms, stderr} = await loginAlice(ctx);
    wall.push(ms);
    const timing = TIMING.exec(stderr);
    if (!timing) throw new Error(`hub login printed no hub-timing line with HUB_TIMING=1:\n${stderr}`);
    callbackToStored.push(Number(timing[1]));
  }
  return [
    figure({
      benchmark: BENCHMARK,
      name: 'callback reaches the loopback server → tokens in the keychain',
      unit: 'ms',
      value: summarize(callbackToStored),
      target: {op: '<=', value: 300},
    }),
    figure({benchmark: BENCHMARK, name: 'whole automated login (hub login + Chromium sign-in)', unit: 'ms', value: summarize(wall)}),
  ];
}
