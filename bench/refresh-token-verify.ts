/**
 * Why refresh-token.ts checks hub-auth's own refresh tokens with node:crypto rather than jose's
 * jwtVerify: docker sends one with every token request of a push or pull, and nothing caches the
 * check. Times both on the same token and key (hub-auth keygen's ES256, or RS256) and prints
 * CPU microseconds per check (the process's, threads included: jose's WebCrypto verifies on
 * libuv's pool), the median of 5 alternating runs, so that other load on the machine counts
 * little. Arguments: the signing key and certificate files, the seconds per run.
 */
import {randomUUID} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {performance} from 'node:perf_hooks';
import {createLocalJWKSet, jwtVerify} from 'jose';
import {
  readRefreshToken,
  refreshClaims,
  REFRESH_AUDIENCE,
  verificationKeysFromJwks,
} from '../packages/hub-auth/src/tokens/refresh-token.js';
import {createSigner, verificationJwks} from '../packages/hub-auth/src/tokens/signing.js';

const [keyFile, certificateFile, seconds = '2'] = process.argv.slice(2) as [string, string, string?];
const certificatePem = await readFile(certificateFile, 'utf8');
const signer = createSigner({privateKeyPem: await readFile(keyFile, 'utf8'), certificatePem, keyIdFormat: 'libtrust', includeX5c: true});
const jwks = verificationJwks([certificatePem], 'libtrust');
const keys = verificationKeysFromJwks(jwks);
const now = Math.floor(Date.now() / 1000);
const token = signer.sign(
  refreshClaims({account: 'alice', service: 'registry', sessionId: randomUUID(), tokenId: randomUUID()}, 'hub-auth', now, {
    lifetimeSeconds: 3600,
    revalidateSeconds: 3600,
  }),
);
const expected = {issuer: 'hub-auth', service: 'registry', nowSeconds: now};
const keySet = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
const algorithms = [...new Set(jwks.keys.map((key) => key.alg))];

async function perCheck(check: () => unknown, ms: number): Promise<number> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  let count = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 100; i++) await check();
    count += 100;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / count;
}

const handWritten = () => {
  if (!readRefreshToken(token, keys, expected)) throw new Error('refused');
};
// What refresh-token.ts would be on jose: the same checks, the claims' shape read afterwards.
const withJose = async () => {
  const {payload} = await jwtVerify(token, keySet, {
    issuer: 'hub-auth',
    audience: REFRESH_AUDIENCE,
    algorithms,
    requiredClaims: ['exp', 'sub'],
  });
  if (payload.token_use !== 'refresh' || payload.svc !== 'registry') throw new Error('refused');
};

for (const run of [handWritten, withJose]) await perCheck(run, 500); // untimed: JIT, OpenSSL's first use
const ms = (Number(seconds) * 1000) / 5;
const runs: Record<'nodeCrypto' | 'jose', number[]> = {nodeCrypto: [], jose: []};
for (let round = 0; round < 5; round++) {
  runs.nodeCrypto.push(await perCheck(handWritten, ms));
  runs.jose.push(await perCheck(withJose, ms));
}
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const result = {algorithm: algorithms[0], nodeCryptoCpuMicroseconds: median(runs.nodeCrypto), joseCpuMicroseconds: median(runs.jose)};
process.stdout.write(`${JSON.stringify(result)}\n`);
