/**
 * The limit hub-auth's throughput is held against: how many registry tokens one core signs per
 * second with hub-auth's own signer, run pinned to the core hub-auth runs on. Arguments: the
 * signing key and certificate files, the claims (JSON) and the seconds to sign for; prints
 * `{"perSecond": N}`.
 */
import {performance} from 'node:perf_hooks';
import {hubAuthSigner} from './signer.js';

const [keyFile, certificateFile, claimsJson, seconds] = process.argv.slice(2) as [string, string, string, string];
const signer = await hubAuthSigner(keyFile, certificateFile);
const claims = JSON.parse(claimsJson) as Record<string, unknown>;

function signFor(ms: number): {count: number; ms: number; cpuMs: number} {
  const start = performance.now();
  const cpuAtStart = process.cpuUsage();
  let count = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 50; i++) signer.sign(claims);
    count += 50;
  }
  const cpu = process.cpuUsage(cpuAtStart);
  return {count, ms: performance.now() - start, cpuMs: (cpu.user + cpu.system) / 1000};
}

// Untimed first: the JIT and OpenSSL's first-use costs are not what a busy hub-auth pays.
signFor(Math.min(500, Number(seconds) * 250));
const {count, ms, cpuMs} = signFor(Number(seconds) * 1000);
// Per CPU-second as well: on a machine shared with other work the core is not all this loop's.
process.stdout.write(JSON.stringify({perSecond: count / (ms / 1000), perCpuSecond: count / (cpuMs / 1000)}));
