import {createRequire} from 'node:module';
import {performance} from 'node:perf_hooks';
import {runHub} from '@hub/test-stack/hub-cli';
import {ROBOT_CLIENT, USERS} from '@hub/test-stack/identity-provider';
import {runCommand} from './commands.js';
import type {BenchContext} from './context.js';
import {figure, type Figure} from './report.js';
import {summarize} from './stats.js';

const BENCHMARK = 'Login';
const TIMING = /^hub-timing callback_to_stored_ms=([\d.]+)$/m;

/**
 * The least any client does between a provider's answer and the tokens being stored: one request
 * to the provider's token endpoint and one Secret Service write with the keyring addon hub uses,
 * timed inside a fresh node process like hub's own span. A code needs a browser, so the request is
 * the robot's client-credentials grant at the same endpoint (the provider issues tokens either way).
 * The robot's secret comes in the environment, not the arguments.
 */
const LOGIN_FLOOR_PROBE = `
import {createRequire} from 'node:module';
const {AsyncEntry} = createRequire(import.meta.url)(process.argv[2]);
const {token_endpoint} = await (await fetch(process.argv[1] + '/.well-known/openid-configuration')).json();
const start = performance.now();
const answer = await fetch(token_endpoint, {
  method: 'POST',
  headers: {authorization: 'Basic ' + Buffer.from(process.argv[3] + ':' + process.env.BENCH_ROBOT_SECRET).toString('base64'), 'content-type': 'application/x-www-form-urlencoded'},
  body: 'grant_type=client_credentials',
});
if (!answer.ok) throw new Error('the token endpoint answered ' + answer.status);
const entry = new AsyncEntry('hub-bench-login-floor', 'robot');
await entry.setPassword(JSON.stringify(await answer.json()));
const ms = performance.now() - start;
await entry.deletePassword();
process.stdout.write(JSON.stringify(ms));
`;
const KEYRING_ADDON = createRequire(import.meta.url).resolve('@napi-rs/keyring');

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
  const floor: number[] = [];
  for (let round = 0; round < ctx.settings.loginRounds; round++) {
    const {ms, stderr} = await loginAlice(ctx);
    wall.push(ms);
    const timing = TIMING.exec(stderr);
    if (!timing) throw new Error(`hub login printed no hub-timing line with HUB_TIMING=1:\n${stderr}`);
    callbackToStored.push(Number(timing[1]));
    const probe = ['--input-type=module', '-e', LOGIN_FLOOR_PROBE, ctx.stack.idp.issuer, KEYRING_ADDON, ROBOT_CLIENT.id];
    floor.push(Number(await runCommand(process.execPath, probe, {env: {...ctx.env, BENCH_ROBOT_SECRET: ROBOT_CLIENT.secret}})));
  }
  const name = 'callback reaches the loopback server → tokens in the keychain';
  return [
    figure({benchmark: BENCHMARK, name, unit: 'ms', value: summarize(callbackToStored), target: {op: '<=', value: 300}}),
    figure({
      benchmark: BENCHMARK,
      name,
      unit: 'ms',
      value: summarize(callbackToStored),
      baseline: {name: 'one token request and one keychain write, from a fresh node', value: summarize(floor)},
    }),
    figure({benchmark: BENCHMARK, name: 'whole automated login (hub login + Chromium sign-in)', unit: 'ms', value: summarize(wall)}),
  ];
}
