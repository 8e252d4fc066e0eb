import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {decodeJwt, generateKeyPair, SignJWT} from 'jose';
import {Pool} from 'undici';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {keygen, SERVICE, startHubAuth, type HubAuth} from '@hub/test-stack/hub-auth';
import {registryAudience} from '@hub/protocol/registry-audience';
import {startIdentityProvider, subjectOf, type IdentityProvider} from '@hub/test-stack/identity-provider';
import {e2eEnabled} from '@hub/test-stack/prerequisites';
import {createSandbox, type Sandbox} from '@hub/test-stack/sandbox';

/** How long the load runs; the issue asks for 60 s. HUB_LOAD_SECONDS shortens it for local runs. */
const LOAD_SECONDS = Number(process.env.HUB_LOAD_SECONDS ?? 60);
const REGISTRY_HOST = '127.0.0.1:5000';
const AUDIENCE = registryAudience(REGISTRY_HOST);

describe.runIf(e2eEnabled([]))('hub-auth under faults and load', () => {
  let sandbox: Sandbox;
  let idp: IdentityProvider;
  let hubAuth: HubAuth;

  beforeAll(async () => {
    sandbox = await createSandbox('hub-auth-load');
    idp = await startIdentityProvider();
    const signing = await keygen(join(sandbox.dir, 'keys'));
    hubAuth = await startHubAuth({dir: join(sandbox.dir, 'hub-auth'), oidcIssuer: idp.issuer, registryHost: REGISTRY_HOST, signing});
  });

  afterAll(async () => {
    await hubAuth?.stop();
    await idp?.stop();
    await sandbox?.remove();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const jwt = (overrides: Record<string, unknown> = {}) =>
    idp.signWithProviderKey({
      iss: idp.issuer,
      aud: AUDIENCE,
      sub: subjectOf('alice'),
      preferred_username: 'alice',
      iat: now(),
      exp: now() + 600,
      jti: crypto.randomUUID(),
      ...overrides,
    });

  async function ask(token: string | undefined, scope = 'repository:alice/app:push,pull') {
    const response = await fetch(`${hubAuth.url}/token?service=${SERVICE}&scope=${scope}`, {
      headers: token ? {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`} : {},
    });
    const body = (await response.json()) as {token?: string};
    return {status: response.status, access: body.token ? decodeJwt(body.token).access : undefined};
  }

  it('keeps verifying JWTs with the keys it has while the provider’s JWKS endpoint fails', async () => {
    expect((await ask(await jwt())).status).toBe(200); // keys fetched and cached
    const fresh = await jwt(); // a token never seen before: its signature must be checked now
    idp.behave({down: true});
    try {
      expect((await ask(fresh)).status).toBe(200);
    } finally {
      idp.behave({down: false});
    }
  });

  it('fails closed when introspection fails, and does not hammer the provider with a flood of bad tokens', async () => {
    idp.behave({down: true});
    const before = idp.requests.get('/token/introspection') ?? 0;
    try {
      const tokens = Array.from({length: 300}, (_, i) => `opaque-flood-${i}-${crypto.randomUUID()}`);
      const answers: number[] = [];
      for (let i = 0; i < tokens.length; i += 50)
        answers.push(...(await Promise.all(tokens.slice(i, i + 50).map(async (t) => (await ask(t)).status))));
      // 503 (the provider failed), or 429 for what one address asked beyond its share: never a grant.
      expect(answers.filter((status) => status !== 503 && status !== 429)).toEqual([]);
      expect(answers).toContain(503);
      // At most one batch of concurrent calls reached the provider before the pause.
      expect((idp.requests.get('/token/introspection') ?? 0) - before).toBeLessThanOrEqual(40);
    } finally {
      idp.behave({down: false});
    }
    await new Promise((resolve) => setTimeout(resolve, 2100)); // the pause after a failure
    const good = await idp.issueOpaqueToken('alice', 600, AUDIENCE);
    expect((await ask(good)).status).toBe(200);
  });

  it('refuses what cannot be an access token without asking the provider', async () => {
    const before = idp.requests.get('/token/introspection') ?? 0;
    const junk = [
      'short',
      'x'.repeat(5000),
      'spaces are not in any token',
      'ünïcödé-but-long-enough',
      '<script>alert(1)</script>',
      'aaaa.bbbb.cccc',
      `${'a'.repeat(20)}.${'b'.repeat(20)}.`,
    ];
    for (const password of junk) {
      const response = await fetch(`${hubAuth.url}/token`, {
        method: 'POST',
        headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: new URLSearchParams({grant_type: 'password', password, service: SERVICE}).toString(),
      });
      expect(response.status, password.slice(0, 40)).toBe(401);
      // What no provider issues is most likely a typed password: the answer points at hub login.
      expect(((await response.json()) as {error_description: string}).error_description).toMatch(
        /not an access token|not a valid JWT|docker login with a password is not how .* signs you in: run "hub login /,
      );
    }
    expect((idp.requests.get('/token/introspection') ?? 0) - before).toBe(0);
  });

  it('introspects in turn per client address: while one address floods it with junk tokens, every other user’s new token is checked', async () => {
    // A provider under strain (each answer 100 ms): the attacker alone could keep every slot busy.
    idp.behave({delayMs: 100});
    const attacker = new Pool(hubAuth.url, {connections: 40, localAddress: '127.0.0.2'});
    const users = Array.from({length: 20}, (_, i) => new Pool(hubAuth.url, {connections: 1, localAddress: `127.0.0.${10 + i}`}));
    const attack = {answers: new Map<number, number>(), honest429: 0, stop: false};
    try {
      const tokens = await Promise.all(users.map(() => idp.issueOpaqueToken('alice', 600, AUDIENCE)));
      const request = async (pool: Pool, token: string) => {
        const {statusCode, headers, body} = await pool.request({
          method: 'GET',
          path: `/token?service=${SERVICE}&scope=repository:alice/app:pull`,
          headers: {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`},
        });
        return {status: statusCode, retryAfter: headers['retry-after'], text: await body.text()};
      };
      let sent = 0;
      const flood = async () => {
        // Bounded: at most 20,000 requests, and only until the users are done.
        while (!attack.stop && sent++ < 20_000) {
          const answer = await request(attacker, crypto.randomUUID().replaceAll('-', '') + crypto.randomUUID().replaceAll('-', ''));
          attack.answers.set(answer.status, (attack.answers.get(answer.status) ?? 0) + 1);
          if (answer.status === 429 && answer.retryAfter !== undefined && /too many token checks from your address/.test(answer.text))
            attack.honest429++;
        }
      };
      // 40 at once: more than all 32 introspection slots, no more, to leave the machine's CPU to the test.
      const flooding = Array.from({length: 40}, () => flood());
      // The users come once the flood is under way.
      while (sent < 300) await new Promise((resolve) => setTimeout(resolve, 20));
      const statuses = await Promise.all(users.map(async (pool, i) => (await request(pool, tokens[i]!)).status));
      attack.stop = true;
      await Promise.all(flooding);
      console.log(
        `introspection flood: ${sent} requests from the attacker's address, answered ${JSON.stringify(Object.fromEntries(attack.answers))}; users: ${statuses.join(' ')}`,
      );
      expect(statuses).toEqual(users.map(() => 200));
      expect(attack.answers.get(200)).toBeUndefined();
      expect(attack.honest429).toBeGreaterThan(0);
      expect(attack.honest429).toBe(attack.answers.get(429));
    } finally {
      attack.stop = true;
      idp.behave({delayMs: 0});
      await Promise.all([attacker, ...users].map((pool) => pool.close()));
    }
  }, 120_000);

  it('asks the provider once about a bad token, however often it is presented', async () => {
    const before = idp.requests.get('/token/introspection') ?? 0;
    const bad = `never-issued-${crypto.randomUUID()}`;
    for (let i = 0; i < 100; i++) expect((await ask(bad)).status).toBe(401);
    expect((idp.requests.get('/token/introspection') ?? 0) - before).toBe(1);
  });

  it(
    `serves 200 connections for ${LOAD_SECONDS} s of valid, expired, forged and anonymous requests: no 5xx, every decision right, memory flat`,
    async () => {
      const {privateKey: rogueKey} = await generateKeyPair('RS256');
      const kinds = {
        valid: {token: await jwt(), status: 200, access: [{type: 'repository', name: 'alice/app', actions: ['push', 'pull']}]},
        opaque: {
          token: await idp.issueOpaqueToken('alice', 600, AUDIENCE),
          status: 200,
          access: [{type: 'repository', name: 'alice/app', actions: ['push', 'pull']}],
        },
        expired: {token: await jwt({exp: now() - 300, iat: now() - 900}), status: 401},
        forged: {
          token: await new SignJWT({iss: idp.issuer, aud: AUDIENCE, sub: 'x', preferred_username: 'alice', exp: now() + 600})
            .setProtectedHeader({alg: 'RS256', kid: 'test-provider-key'})
            .sign(rogueKey),
          status: 401,
        },
        anonymous: {token: undefined, status: 200, access: []},
      } as const;
      const names = Object.keys(kinds) as Array<keyof typeof kinds>;
      const pool = new Pool(hubAuth.url, {connections: 200, pipelining: 1});
      const counts = {requests: 0, serverErrors: 0, wrong: 0, checked: 0};
      const rss: number[] = [];
      let health = 0;
      const deadline = Date.now() + LOAD_SECONDS * 1000;
      const heap: number[] = [];
      const sampler = setInterval(async () => {
        rss.push(await rssOf(hubAuth.daemon.child.pid!));
        const metrics = await (await fetch(`${hubAuth.monitoringUrl}/metrics`)).text().catch(() => '');
        heap.push(Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1] ?? 0));
        const healthz = await fetch(`${hubAuth.monitoringUrl}/healthz`).catch(() => undefined);
        if (healthz?.status === 200) health++;
      }, 1000);

      async function worker(index: number): Promise<void> {
        for (let i = index; Date.now() < deadline; i += 200) {
          const kind = names[i % names.length]!;
          const {token, status} = kinds[kind];
          const {statusCode, body} = await pool.request({
            method: 'GET',
            path: `/token?service=${SERVICE}&scope=repository:alice/app:push,pull`,
            headers: token ? {authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`} : {},
          });
          const text = await body.text();
          counts.requests++;
          if (statusCode >= 500) counts.serverErrors++;
          if (statusCode !== status) counts.wrong++;
          // Every hundredth answer is opened up and its grant compared with what the policy says.
          if (statusCode === 200 && i % 100 < 5) {
            counts.checked++;
            const access = decodeJwt((JSON.parse(text) as {token: string}).token).access;
            if (JSON.stringify(access) !== JSON.stringify((kinds[kind] as {access?: unknown}).access)) counts.wrong++;
          }
        }
      }
      await Promise.all(Array.from({length: 200}, (_, i) => worker(i)));
      clearInterval(sampler);
      await pool.close();

      console.log(
        `hub-auth load: ${counts.requests} requests in ${LOAD_SECONDS} s (${Math.round(counts.requests / LOAD_SECONDS)}/s), ${counts.serverErrors} 5xx, ${counts.wrong} wrong, ${counts.checked} grants checked, RSS ${rss.map((r) => Math.round(r / 1e6)).join(' ')} MB, heap ${heap.map((r) => Math.round(r / 1e6)).join(' ')} MB`,
      );
      expect(counts.serverErrors).toBe(0);
      expect(counts.wrong).toBe(0);
      expect(counts.checked).toBeGreaterThan(0);
      expect(health).toBeGreaterThanOrEqual(Math.floor(LOAD_SECONDS / 2));
      // After the first quarter (warm-up), memory grows by no more than 20 %: the process's RSS, and
      // the floor the JavaScript heap returns to after collections (a leak raises the floor).
      const quarter = Math.ceil(rss.length / 4);
      expect(Math.max(...rss.slice(quarter))).toBeLessThanOrEqual(Math.max(...rss.slice(0, quarter)) * 1.2);
      expect(Math.min(...heap.slice(-quarter))).toBeLessThanOrEqual(Math.max(...heap.slice(0, quarter)) * 1.2);
    },
    (LOAD_SECONDS + 60) * 1000,
  );
});

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}
