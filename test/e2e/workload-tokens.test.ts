import {execFile} from 'node:child_process';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeImage, runDocker} from '@hub/test-stack/docker-engine';
import {runHub} from '@hub/test-stack/hub-cli';
import {hubAuthLogLines} from '@hub/test-stack/hub-auth';
import {waitForOutput} from '@hub/test-stack/process';
import {E2E_PROGRAMS, e2eEnabled} from '@hub/test-stack/prerequisites';
import {REGISTRY_PROGRAMS, startRegistryStack, type RegistryStack} from '@hub/test-stack/registry-stack';
import {
  githubActionsClaims,
  gitlabClaims,
  serviceAccountClaims,
  startWorkloadIssuer,
  workloadSigner,
  type WorkloadIssuer,
  type WorkloadSigner,
} from '@hub/test-stack/workload-issuer';
import {registryAudience} from '@hub/protocol/registry-audience';

const CLUSTER_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const KUBELET_PROVIDER = fileURLToPath(new URL('../../bin/hub-kubelet-credential-provider.cjs', import.meta.url));

/** The kubelet's side of KEP-2133 (and KEP-4412, with the pod's token): a CredentialProviderRequest on stdin. */
function askProvider(
  fields: {image?: string; serviceAccountToken?: string; apiVersion?: string},
  env: NodeJS.ProcessEnv = {},
): Promise<{code: number; stdout: string; stderr: string}> {
  const request = {apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderRequest', ...fields};
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [KUBELET_PROVIDER], {env: {PATH: process.env.PATH, ...env}}, (error, stdout, stderr) =>
      resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, stdout, stderr}),
    );
    child.stdin!.end(JSON.stringify(request));
  });
}

/**
 * CI jobs and pods push with their platform's own OIDC token, no secret of the registry's: two
 * CI platforms, each an oidc-provider instance, serve discovery, JWKS and job tokens on loopback as GitHub Actions and GitLab do, a cluster's
 * keys reach hub-auth as a JWKS file, and a fourth issuer maps a bare `{repository}`. Each token
 * goes through plain `docker login -u oidc --password-stdin` and `docker push` on the real
 * registry, hub-auth and dockerd; the refusals are read in docker's own output.
 */
describe.runIf(e2eEnabled([...E2E_PROGRAMS, ...REGISTRY_PROGRAMS]))(
  'workload tokens: CI jobs and pods push with their own OIDC tokens',
  () => {
    let stack: RegistryStack;
    let registry: string;
    let audience: string;
    let github: WorkloadIssuer;
    let gitlab: WorkloadIssuer;
    let cluster: WorkloadSigner;
    let bare: WorkloadSigner;
    let keysDir: string;

    beforeAll(async () => {
      [github, gitlab, cluster, bare] = await Promise.all([
        startWorkloadIssuer(),
        startWorkloadIssuer(),
        workloadSigner(CLUSTER_ISSUER),
        workloadSigner('https://ci.bare.example'),
      ]);
      keysDir = await mkdtemp(join(tmpdir(), 'workload-keys-'));
      await cluster.writeJwksFile(join(keysDir, 'cluster-jwks.json'));
      await bare.writeJwksFile(join(keysDir, 'bare-jwks.json'));
      stack = await startRegistryStack({
        hubAuth: {
          workloads: {
            issuers: [
              {name: 'gha', issuer: github.issuer, requiredClaims: {repository_owner: 'acme'}, robot: '{repository:2}'},
              {name: 'gitlab', issuer: gitlab.issuer, requiredClaims: {ref_protected: 'true'}, robot: '{project_path:2}'},
              {
                name: 'cluster',
                issuer: CLUSTER_ISSUER,
                jwksFile: join(keysDir, 'cluster-jwks.json'),
                robot: '{kubernetes.io.namespace}/{kubernetes.io.serviceaccount.name}',
              },
              {name: 'bare', issuer: bare.issuer, jwksFile: join(keysDir, 'bare-jwks.json'), robot: '{repository}'},
            ],
          },
        },
      });
      registry = stack.registry.host;
      audience = registryAudience(registry);
      await makeImage(stack.env, stack.sandbox.dir, 'workload:source');
    });

    afterAll(async () => {
      await stack?.stop();
      await Promise.all([github?.stop(), gitlab?.stop()]);
      if (keysDir) await rm(keysDir, {recursive: true, force: true});
    });

    const docker = (args: string[], input?: string) => runDocker(stack.env, args, input);

    async function login(token: string): Promise<{code: number; output: string}> {
      await docker(['logout', registry]);
      return docker(['login', registry, '-u', 'oidc', '--password-stdin'], token);
    }

    async function push(repository: string): Promise<{code: number; output: string}> {
      const reference = `${registry}/${repository}`;
      await docker(['tag', 'workload:source', reference]);
      return docker(['push', reference]);
    }

    it.each([
      ['a GitHub Actions job', () => github.mint(githubActionsClaims('acme/app'), audience), 'workloads/gha/acme/app/api:1'],
      ['a GitLab CI job', () => gitlab.mint(gitlabClaims('acme/web'), audience), 'workloads/gitlab/acme/web/site:1'],
      [
        "a pod's service-account token (keys from a JWKS file)",
        () => cluster.mint(serviceAccountClaims('build', 'pusher'), audience),
        'workloads/cluster/build/pusher/tool:1',
      ],
    ])('%s logs in with docker login -u oidc and pushes into its robot namespace', async (_kind, token, repository) => {
      const login_ = await login(await token());
      expect(login_.output).toContain('Login Succeeded');
      const pushed = await push(repository);
      expect(pushed.code, pushed.output).toBe(0);
    });

    it('logs each use with the issuer, the robot and the claims that decided it, never the token', async () => {
      const token = await github.mint(githubActionsClaims('acme/app'), audience);
      // Issued by the platform's OpenID provider (RFC 9068: client_id, jti), with the job's claims.
      expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({
        iss: github.issuer,
        aud: audience,
        client_id: 'ci-runner',
        jti: expect.any(String),
        repository: 'acme/app',
      });
      await login(token);
      expect((await push('workloads/gha/acme/app/audit:1')).code).toBe(0);
      await waitForOutput(stack.hubAuth.daemon, 'workloads/gha/acme/app/audit');
      const line = hubAuthLogLines(stack.hubAuth, 'token issued').find((entry) => JSON.stringify(entry.granted).includes('app/audit'));
      expect(line).toMatchObject({
        account: 'workloads/gha/acme/app',
        refresh: false,
        workload: {issuer: github.issuer, claims: {repository_owner: 'acme', repository: 'acme/app'}},
      });
      expect(stack.hubAuth.daemon.output()).not.toContain(token);
    });

    it("can never push into a person's namespace", async () => {
      expect((await login(await github.mint(githubActionsClaims('acme/app'), audience))).code).toBe(0);
      const pushed = await push('alice/app:from-ci');
      expect(pushed.code).not.toBe(0);
      expect(pushed.output).toMatch(/denied|insufficient_scope/);
    });

    it.each([
      [
        'a claim that does not match',
        () => github.mint(githubActionsClaims('evil/app'), audience),
        'the token\'s repository_owner is "evil", this registry requires "acme"',
      ],
      ['another audience', () => github.mint(githubActionsClaims('acme/app'), 'sts.amazonaws.com'), 'the token is for "sts.amazonaws.com"'],
      [
        'an expired token',
        () => github.mint(githubActionsClaims('acme/app'), audience, {issuedAt: Math.floor(Date.now() / 1000) - 900}),
        'the token has expired',
      ],
      [
        'an unlisted issuer',
        async () => (await workloadSigner('https://token.evil.example')).mint(githubActionsClaims('acme/app'), audience),
        'the token\'s issuer "https://token.evil.example" is neither',
      ],
      [
        'a GitLab job on an unprotected ref',
        () => gitlab.mint({...gitlabClaims('acme/web'), ref_protected: 'false'}, audience),
        'the token\'s ref_protected is "false", this registry requires "true"',
      ],
    ])('refuses %s, saying why in docker login', async (_case, token, reason) => {
      const refused = await login(await token());
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(reason);
    });

    it.each([
      ['../alice', 'is not a repository path component'],
      ['acme/app/../../alice', 'has 5 path components, the robot name takes 2'],
      ['acme/App', 'is not a repository path component'],
      ['acme/alice/x', 'has 3 path components, the robot name takes 2'],
    ])('refuses a repository claim of %j crafted to leave its namespace', async (repository, reason) => {
      const refused = await login(await github.mint({...githubActionsClaims('acme/app'), repository}, audience));
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(`the token's repository "${repository}" ${reason}`);
    });

    it('a claim "alice" mapped by a bare {repository} lands under its issuer, never in alice/', async () => {
      expect((await login(await bare.mint({repository: 'alice'}, audience))).code).toBe(0);
      expect((await push('alice/app:from-bare')).code).not.toBe(0);
      expect((await push('workloads/bare/alice/app:1')).code).toBe(0);
    });

    it("the kubelet's credential provider answers with the pod's own token, and the runtime pulls with it", async () => {
      const image = `${registry}/workloads/cluster/build/pusher/tool:1`;
      expect((await login(await cluster.mint(serviceAccountClaims('build', 'pusher'), audience))).code).toBe(0);
      expect((await push('workloads/cluster/build/pusher/tool:1')).code).toBe(0);
      await docker(['logout', registry]);
      await docker(['rmi', image]);
      const token = await cluster.mint(serviceAccountClaims('build', 'pusher'), audience, {expiresIn: 600});
      const answer = await askProvider({image, serviceAccountToken: token});
      expect(answer.code, answer.stderr).toBe(0);
      const response = JSON.parse(answer.stdout) as {
        kind: string;
        cacheKeyType: string;
        cacheDuration: string;
        auth: Record<string, {username: string; password: string}>;
      };
      expect(response).toMatchObject({kind: 'CredentialProviderResponse', cacheKeyType: 'Image'});
      // The token lives 10 minutes: cached until a minute before.
      expect(Number.parseInt(response.cacheDuration, 10)).toBeGreaterThan(530);
      expect(Number.parseInt(response.cacheDuration, 10)).toBeLessThanOrEqual(540);
      const credentials = response.auth[`${registry}/workloads/cluster/build/pusher/tool`]!;
      expect(credentials.password).toBe(token);
      // What the runtime does with them: basic credentials at the realm the registry names.
      expect((await docker(['login', registry, '-u', credentials.username, '--password-stdin'], credentials.password)).code).toBe(0);
      const pulled = await docker(['pull', image]);
      expect(pulled.code, pulled.output).toBe(0);
    });

    it.each([
      [
        'a token for another audience',
        `workloads/cluster/build/pusher/tool:1`,
        () => cluster.mint(serviceAccountClaims('build', 'pusher'), 'https://kubernetes.default.svc'),
        'the token is for "https://kubernetes.default.svc"',
      ],
      [
        "an image in a person's namespace",
        'alice/app:1',
        () => cluster.mint(serviceAccountClaims('build', 'pusher'), audience),
        'does not let workloads/cluster/build/pusher pull alice/app',
      ],
      [
        "another service account's namespace",
        'workloads/cluster/build/pusher/tool:1',
        () => cluster.mint(serviceAccountClaims('build', 'other'), audience),
        'does not let workloads/cluster/build/other pull workloads/cluster/build/pusher/tool',
      ],
    ])(
      "the kubelet's credential provider refuses %s, with hub-auth's reason in the kubelet's log, and never shows the token",
      async (_case, repository, mint, reason) => {
        const token = await mint();
        const answer = await askProvider({image: `${registry}/${repository}`, serviceAccountToken: token});
        expect(answer.code).toBe(1);
        expect(answer.stdout).toBe('');
        expect(answer.stderr).toContain(reason);
        expect(answer.stderr).not.toContain(token);
      },
    );

    it("the kubelet's credential provider without the pod's token takes the node's from HUB_WORKLOAD_TOKEN_FILE, and the runtime pulls with it", async () => {
      const image = `${registry}/workloads/cluster/build/pusher/tool:1`;
      const refused = await askProvider({image});
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('tokenAttributes.serviceAccountTokenAudience');
      expect(refused.stderr).toContain('HUB_WORKLOAD_TOKEN_FILE');
      const file = join(keysDir, 'node-token');
      await writeFile(file, `${await cluster.mint(serviceAccountClaims('build', 'pusher'), audience)}\n`, {mode: 0o600});
      const answer = await askProvider({image}, {HUB_WORKLOAD_TOKEN_FILE: file});
      expect(answer.code, answer.stderr).toBe(0);
      const {username, password} = (JSON.parse(answer.stdout) as {auth: Record<string, {username: string; password: string}>}).auth[
        `${registry}/workloads/cluster/build/pusher/tool`
      ]!;
      await docker(['logout', registry]);
      await docker(['rmi', image]);
      expect((await docker(['login', registry, '-u', username, '--password-stdin'], password)).code).toBe(0);
      const pulled = await docker(['pull', image]);
      expect(pulled.code, pulled.output).toBe(0);
    });

    it.each([
      ['no image', {}, 'image is missing'],
      ['another apiVersion', {apiVersion: 'credentialprovider.kubelet.k8s.io/v1alpha1'}, 'apiVersion expected one of'],
      ['an image without a registry', {image: 'library/alpine:3'}, 'names no registry host'],
    ])(
      "the kubelet's credential provider given %s says what is wrong on stderr, exit 2, never a stack trace",
      async (_case, fields, reason) => {
        const answer = await askProvider(fields as {image?: string});
        expect(answer.code).toBe(2);
        expect(answer.stdout).toBe('');
        expect(answer.stderr).toContain(reason);
        expect(answer.stderr).not.toMatch(/^\s+at /m);
      },
    );

    it('hub login --with-token takes a workload token as it is: no identity token, no refresh, pushes for its life', async () => {
      const token = await github.mint(githubActionsClaims('acme/app'), audience);
      const env = {...stack.env, HUB_CONFIG_DIR: join(stack.sandbox.dir, 'ci-job-config')};
      const logged = await runHub(['login', registry, '--with-token'], env, {input: `${token}\n`});
      expect(logged.code, logged.stderr).toBe(0);
      expect(logged.stderr).toContain('as workloads/gha/acme/app');
      await docker(['tag', 'workload:source', `${registry}/workloads/gha/acme/app/hub:1`]);
      const pushed = await runHub(['push', `${registry}/workloads/gha/acme/app/hub:1`], env);
      expect(pushed.code, pushed.stderr).toBe(0);
    });
  },
);
