import {createServer} from 'node:http';
import {writeFile} from 'node:fs/promises';
import type {AddressInfo} from 'node:net';
import {exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload} from 'jose';
import {closeServer} from './identity-provider.js';

/**
 * A CI platform's OpenID issuer, as hub-auth sees GitHub Actions' or GitLab's: OpenID discovery
 * and a JWKS over HTTP on loopback, and job tokens signed with a key of its own. A cluster's
 * service-account issuer is the same signer without the server: its keys reach hub-auth as a
 * JWKS file, as `kubectl get --raw /openid/v1/jwks` writes it.
 */
export interface WorkloadSigner {
  issuer: string;
  jwks: {keys: JWK[]};
  /** A token for `audience`, with these claims; `expiresIn` seconds (default 300) from `issuedAt` (default now). */
  mint(claims: JWTPayload, audience: string, times?: {issuedAt?: number; expiresIn?: number}): Promise<string>;
  writeJwksFile(path: string): Promise<void>;
}

export interface WorkloadIssuer extends WorkloadSigner {
  stop(): Promise<void>;
}

export async function workloadSigner(issuer: string): Promise<WorkloadSigner> {
  const {privateKey, publicKey} = await generateKeyPair('RS256');
  const kid = `workload-${Math.random().toString(36).slice(2, 10)}`;
  const jwks = {keys: [{...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig'}]};
  return {
    issuer,
    jwks,
    async mint(claims, audience, times = {}) {
      const issuedAt = times.issuedAt ?? Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({alg: 'RS256', kid, typ: 'JWT'})
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(issuedAt)
        .setNotBefore(issuedAt)
        .setExpirationTime(issuedAt + (times.expiresIn ?? 300))
        .sign(privateKey);
    },
    writeJwksFile: (path) => writeFile(path, JSON.stringify(jwks)),
  };
}

/** The issuer served on a loopback port: its discovery document names the JWKS next to it. */
export async function startWorkloadIssuer(): Promise<WorkloadIssuer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const signer = await workloadSigner(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const documents: Record<string, unknown> = {
    '/.well-known/openid-configuration': {
      issuer: signer.issuer,
      jwks_uri: `${signer.issuer}/.well-known/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    },
    '/.well-known/jwks': signer.jwks,
  };
  server.on('request', (request, response) => {
    const body = documents[request.url ?? ''];
    response.writeHead(body ? 200 : 404, {'content-type': 'application/json'}).end(JSON.stringify(body ?? {error: 'not found'}));
  });
  return {...signer, stop: () => closeServer(server)};
}

/** The claims GitHub Actions puts in a job's token (a subset: those an operator maps and requires). */
export function githubActionsClaims(repository: string, ref = 'refs/heads/main'): JWTPayload {
  const [owner] = repository.split('/');
  return {
    sub: `repo:${repository}:ref:${ref}`,
    repository,
    repository_owner: owner,
    ref,
    ref_protected: 'true',
    job_workflow_ref: `${repository}/.github/workflows/release.yml@${ref}`,
    event_name: 'push',
  };
}

/** The claims of a GitLab CI job's `id_tokens:` token. */
export function gitlabClaims(projectPath: string, ref = 'main'): JWTPayload {
  const [namespace] = projectPath.split('/');
  return {
    sub: `project_path:${projectPath}:ref_type:branch:ref:${ref}`,
    project_path: projectPath,
    namespace_path: namespace,
    ref,
    ref_type: 'branch',
    ref_protected: 'true',
    pipeline_source: 'push',
  };
}

/** The claims of a pod's projected service-account token. */
export function serviceAccountClaims(namespace: string, name: string): JWTPayload {
  return {
    sub: `system:serviceaccount:${namespace}:${name}`,
    'kubernetes.io': {namespace, serviceaccount: {name, uid: '0c6b7a52-1f3e-4d2a-9a51-1d2f7a8e9b10'}},
  };
}
