import {describe, expect, it} from 'vitest';
import {parseConfig} from '../../../../src/config.js';
import {workloadTokens} from '../../../../src/workloads/workload-tokens.js';
import {GITHUB, githubToken, jwksFile, NOW, signed} from '../../workloads/signed-workload-tokens.js';
import {rawConfig, service} from './token-service.js';

const config = parseConfig({
  ...rawConfig,
  workloads: {issuers: [{name: 'gha', issuer: GITHUB, jwksFile, requiredClaims: {repository_owner: 'acme'}, robot: '{repository:2}'}]},
});
const workloads = await workloadTokens(config.workloads.issuers, {timeoutSeconds: 1, cacheSize: 10, nowSeconds: () => NOW});
const PUSH = 'repository:workloads/gha/acme/app/api:push,pull';

describe('the token route with a workload token', () => {
  it("grants the robot's namespace, gives no identity token even when asked (offline_token), and logs issuer, robot and deciding claims, never the token", async () => {
    const hub = service({}, {config, workloads});
    const token = await githubToken();
    const {status, body} = await hub.get(token, PUSH, '&offline_token=true&client_id=docker');
    expect(status).toBe(200);
    expect(body.refresh_token).toBeUndefined();
    const line = hub.lines.find((entry) => entry.msg === 'token issued');
    expect(line).toMatchObject({
      event: 'token',
      grant: 'password',
      account: 'workloads/gha/acme/app',
      granted: ['repository:workloads/gha/acme/app/api:push,pull'],
      refresh: false,
      workload: {issuer: GITHUB, claims: {repository_owner: 'acme', repository: 'acme/app'}},
    });
    expect(JSON.stringify(hub.lines)).not.toContain(token);
  });

  it('gives no identity token to the OAuth form either (access_type=offline)', async () => {
    const hub = service({}, {config, workloads});
    const {status, body} = await hub.post('/token', {
      grant_type: 'password',
      service: 'registry.example.com',
      scope: PUSH,
      access_type: 'offline',
      password: await githubToken(),
    });
    expect(status).toBe(200);
    expect(body?.refresh_token).toBeUndefined();
  });

  it("grants nothing in a person's namespace", async () => {
    const hub = service({}, {config, workloads});
    const {status, body} = await hub.get(await githubToken(), 'repository:alice/app:push,pull');
    expect(status).toBe(200);
    expect(JSON.parse(Buffer.from(body.token!.split('.')[1]!, 'base64url').toString()).access).toEqual([]);
  });

  it('refuses a claim that does not match, naming it in the answer and in the warning, never the token', async () => {
    const hub = service({}, {config, workloads});
    const token = await githubToken({repository_owner: 'evil', repository: 'evil/app'});
    const {status, body} = await hub.get(token, PUSH);
    expect(status).toBe(403);
    expect(body.errors?.[0]?.message).toBe('the token\'s repository_owner is "evil", this registry requires "acme"');
    expect(hub.lines.find((entry) => entry.level === 40)).toMatchObject({
      event: 'workload refused',
      issuer: GITHUB,
      claim: 'repository_owner',
      msg: 'workload token refused: see README, Workload tokens (workloads.issuers)',
    });
    expect(JSON.stringify(hub.lines)).not.toContain(token);
  });

  it('refuses a JWT of an issuer that is neither the identity provider nor listed', async () => {
    const hub = service({}, {config, workloads});
    const {status, body} = await hub.get(await signed({repository: 'acme/app'}, 'https://evil.example'), PUSH);
    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toMatch(
      /^the token's issuer "https:\/\/evil\.example" is neither this registry's identity provider nor one of its workload issuers/,
    );
  });
});
