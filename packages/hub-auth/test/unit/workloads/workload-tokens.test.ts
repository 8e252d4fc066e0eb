import {beforeAll, describe, expect, it} from 'vitest';
import {parseConfig} from '../../../src/config.js';
import {RefusedWorkloadError, workloadTokens, type WorkloadTokens} from '../../../src/workloads/workload-tokens.js';
import {rawConfig} from '../http/routes/token-service.js';
import {CLUSTER, GITHUB, githubToken, jwksFile, NOW, otherKey, signed} from './signed-workload-tokens.js';

const mint = githubToken;

let tokens: WorkloadTokens;

beforeAll(async () => {
  const config = parseConfig({
    ...rawConfig,
    workloads: {
      issuers: [
        {name: 'gha', issuer: GITHUB, jwksFile, requiredClaims: {repository_owner: 'acme'}, robot: '{repository:2}'},
        {name: 'cluster', issuer: CLUSTER, jwksFile, robot: '{kubernetes.io.namespace}/{kubernetes.io.serviceaccount.name}'},
      ],
    },
  });
  tokens = await workloadTokens(config.workloads.issuers, {timeoutSeconds: 1, cacheSize: 10, nowSeconds: () => NOW});
});

async function refusal(token: Promise<string>): Promise<RefusedWorkloadError> {
  const error = await tokens.check(await token).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(RefusedWorkloadError);
  return error as RefusedWorkloadError;
}

describe('workload tokens', () => {
  it("make a robot under the issuer's own prefix, from the template, with the claims that decided it", async () => {
    expect(await tokens.check(await mint({}))).toEqual({
      requester: {account: 'workloads/gha/acme/app', groups: []},
      holder: {issuer: GITHUB, subject: 'repo:acme/app:ref:refs/heads/main'},
      notAfter: NOW + 300,
      workload: {issuer: GITHUB, claims: {repository_owner: 'acme', repository: 'acme/app'}},
    });
  });

  it("read nested claims (a service-account token's kubernetes.io)", async () => {
    const token = signed({'kubernetes.io': {namespace: 'build', serviceaccount: {name: 'pusher', uid: 'u-1'}}}, CLUSTER);
    expect((await tokens.check(await token)).requester.account).toBe('workloads/cluster/build/pusher');
  });

  it('are chosen by their iss only among listed issuers', async () => {
    expect(tokens.issuerOf(await mint({}))).toBe(GITHUB);
    expect(tokens.lists(GITHUB)).toBe(true);
    expect(tokens.lists('https://evil.example')).toBe(false);
    expect(tokens.issuerOf('opaque-token-of-a-person-0123456789')).toBeUndefined();
  });

  it('are refused naming the required claim that did not match, and what it must be', async () => {
    const error = await refusal(mint({repository_owner: 'evil', repository: 'evil/app'}));
    expect(error.message).toBe('the token\'s repository_owner is "evil", this registry requires "acme"');
    expect(error.status).toBe(403);
    expect((await refusal(mint({repository_owner: undefined}))).message).toBe(
      'the token\'s repository_owner is missing, this registry requires "acme"',
    );
  });

  it('are refused for another audience, saying which one this registry accepts', async () => {
    const error = await refusal(mint({aud: 'sts.amazonaws.com'}));
    expect(error.message).toMatch(/^the token is for "sts\.amazonaws\.com", this registry accepts "https:\/\/registry\.example\.com"/);
    expect(error.status).toBe(401);
  });

  it('are refused once expired, before they are valid, issued in the future, or living too long', async () => {
    expect((await refusal(mint({iat: NOW - 900, exp: NOW - 31}))).message).toBe('the token has expired');
    expect((await refusal(mint({nbf: NOW + 120}))).message).toBe('the token is not valid yet (nbf)');
    expect((await refusal(mint({iat: NOW + 120}))).message).toBe('the token was issued in the future (iat)');
    expect((await refusal(mint({iat: NOW - 100_000, exp: NOW + 60}))).message).toMatch(/lives longer than the 86400 seconds/);
  });

  it('are refused when signed by another key', async () => {
    expect((await refusal(mint({}, otherKey.privateKey))).message).toBe('the token signature is not valid');
  });

  it.each([
    ['../alice', 'is not a repository path component'],
    ['acme/app/../../alice', 'has 5 path components, the robot name takes 2'],
    ['acme/App', 'is not a repository path component'],
    ['alice', 'has 1 path component, the robot name takes 2'],
    ['acme/', 'is not a repository path component'],
  ])('refuse a repository claim of %j, never rewriting it', async (repository, problem) => {
    const error = await refusal(mint({repository}));
    expect(error.status).toBe(403);
    expect(error.message).toContain(`the token's repository "${repository}"`);
    expect(error.message).toContain(problem);
  });
});
