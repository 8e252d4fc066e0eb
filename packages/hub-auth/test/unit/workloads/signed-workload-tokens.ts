/** A CI platform's or a cluster's signing key as the workload tests use it: its JWKS file, and tokens it signs. */
import {mkdtemp, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {exportJWK, generateKeyPair, SignJWT, type JWTPayload} from 'jose';

export const NOW = 1_900_000_000;
export const AUDIENCE = 'https://registry.example.com';
export const GITHUB = 'https://token.actions.example';
export const CLUSTER = 'https://kubernetes.default.svc.cluster.local';

export const key = await generateKeyPair('ES256');
export const otherKey = await generateKeyPair('ES256');
export const jwksFile = join(await mkdtemp(join(tmpdir(), 'workloads-')), 'jwks.json');
await writeFile(jwksFile, JSON.stringify({keys: [{...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig'}]}));

/** A token signed with `key` (or `signer`): the claims as given, iat a minute ago and exp in five unless they say otherwise. */
export async function signed(claims: JWTPayload, iss: string, signer = key.privateKey): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({alg: 'ES256', kid: 'k1'})
    .setIssuer(iss)
    .setAudience((claims.aud as string | undefined) ?? AUDIENCE)
    .setIssuedAt((claims.iat as number | undefined) ?? NOW - 60)
    .setExpirationTime((claims.exp as number | undefined) ?? NOW + 300)
    .sign(signer);
}

/** A GitHub-Actions-shaped token of acme/app's main branch, with `claims` over its own. */
export function githubToken(claims: JWTPayload = {}, signer = key.privateKey): Promise<string> {
  const base = {repository: 'acme/app', repository_owner: 'acme', ref: 'refs/heads/main', sub: 'repo:acme/app:ref:refs/heads/main'};
  return signed({...base, ...claims}, GITHUB, signer);
}
