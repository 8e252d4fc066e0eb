import {createServer} from 'node:http';
import {writeFile} from 'node:fs/promises';
import type {AddressInfo} from 'node:net';
import {exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload} from 'jose';
import Provider from 'oidc-provider';
import {closeServer} from './identity-provider.js';

/**
 * A cluster's service-account issuer, as hub-auth sees one whose issuer it cannot reach: tokens
 * signed with a key of its own, whose keys reach hub-auth as a JWKS file, as
 * `kubectl get --raw /openid/v1/jwks` writes it. A CI platform, reached over HTTP, is a real
 * OpenID provider (startWorkloadIssuer).
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
  return (await keyedSigner(issuer, 'JWT')).signer;
}

/** A signer, and its private key as a JWK for a provider that signs with the same key; `typ` is the tokens' header. */
async function keyedSigner(issuer: string, typ: string): Promise<{signer: WorkloadSigner; privateJwk: JWK}> {
  const {privateKey, publicKey} = await generateKeyPair('RS256', {extractable: true});
  const kid = `workload-${Math.random().toString(36).slice(2, 10)}`;
  const keyFields = {kid, alg: 'RS256', use: 'sig'};
  const jwks = {keys: [{...(await exportJWK(publicKey)), ...keyFields}]};
  const signer: WorkloadSigner = {
    issuer,
    jwks,
    async mint(claims, audience, times = {}) {
      const issuedAt = times.issuedAt ?? Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({alg: 'RS256', kid, typ})
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(issuedAt)
        .setNotBefore(issuedAt)
        .setExpirationTime(issuedAt + (times.expiresIn ?? 300))
        .sign(privateKey);
    },
    writeJwksFile: (path) => writeFile(path, JSON.stringify(jwks)),
  };
  return {signer, privateJwk: {...(await exportJWK(privateKey)), ...keyFields}};
}

/** The CI platform's one client, standing for its job runner: each job's token is a client-credentials grant of it. */
const RUNNER = {id: 'ci-runner', secret: 'ci-runner-secret-not-secret'};
/** The resource every job token is asked for; the audience it carries is the one the job asks for (`aud:` in GitLab, `audience=` at GitHub). */
const JOB_RESOURCE = 'https://jobs.ci.invalid/';

/**
 * A CI platform's OpenID provider on a loopback port: oidc-provider (a certified OpenID
 * provider) with its own discovery, JWKS and token endpoint, issuing each job's token as a JWT
 * access token of a client-credentials grant, with the job's claims in it, as GitHub Actions and
 * GitLab issue theirs. Only a token that was issued in the past (`times.issuedAt`), which no
 * provider issues, is signed here with the provider's own key.
 */
export async function startWorkloadIssuer(): Promise<WorkloadIssuer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // RFC 9068's header, as oidc-provider's own tokens carry it.
  const {signer, privateJwk} = await keyedSigner(issuer, 'at+jwt');
  // What the next token request is for: requests go one at a time, so each gets its own.
  let job: {claims: JWTPayload; audience: string; expiresIn: number} | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: RUNNER.id,
        client_secret: RUNNER.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    features: {
      devInteractions: {enabled: false},
      clientCredentials: {enabled: true},
      resourceIndicators: {
        enabled: true,
        defaultResource: () => JOB_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: '',
          audience: job!.audience,
          accessTokenTTL: job!.expiresIn,
          accessTokenFormat: 'jwt',
          jwt: {sign: {alg: 'RS256'}},
        }),
      },
    },
    extraTokenClaims: () => job?.claims,
    jwks: {keys: [privateJwk]},
    cookies: {keys: ['ci-platform-cookie-key-not-secret']},
  });
  server.on('request', provider.callback());

  async function issue(claims: JWTPayload, audience: string, expiresIn: number): Promise<string> {
    job = {claims, audience, expiresIn};
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {authorization: `Basic ${Buffer.from(`${RUNNER.id}:${RUNNER.secret}`).toString('base64')}`},
      body: new URLSearchParams({grant_type: 'client_credentials', resource: JOB_RESOURCE}),
    });
    const answer = (await response.json()) as {access_token?: string};
    if (!response.ok || !answer.access_token) throw new Error(`the CI platform issued no token: ${JSON.stringify(answer)}`);
    return answer.access_token;
  }

  return {
    ...signer,
    mint(claims, audience, times = {}) {
      if (times.issuedAt !== undefined) return signer.mint(claims, audience, times);
      const token = queue.then(() => issue(claims, audience, times.expiresIn ?? 300));
      queue = token.catch(() => undefined);
      return token;
    },
    stop: () => closeServer(server),
  };
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
