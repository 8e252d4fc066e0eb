import {createHash} from 'node:crypto';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import Fastify, {type FastifyInstance} from 'fastify';
import formBody from '@fastify/formbody';
import {pino} from 'pino';
import {afterEach, describe, expect, it} from 'vitest';
import {csrfTokenFor} from '../src/csrf.js';
import {sessionIdHash} from '../src/session-cookie.js';
import {registerWebHub, type Person, type WebDeps} from '../src/web-hub.js';

const alice: Person = {issuer: 'http://127.0.0.1:1', subject: 'sub-alice', account: 'alice', groups: []};
const SESSION = 'session-id-of-alice';
const NOW = 1_900_000_000;

/** The web hub with an in-memory session store; no provider and no registry answer (port 1). */
function webHub(changes: Partial<WebDeps> = {}) {
  const live = new Map<string, Person>([[sessionIdHash(SESSION), alice]]);
  const deps: WebDeps = {
    publicUrl: new URL('http://127.0.0.1:5001'),
    oidc: {issuer: 'http://127.0.0.1:1', clientId: 'hub-web', clientSecret: 'secret', authorizationParameters: {scope: 'openid'}},
    personOf: async () => alice,
    pullableRepositories: async () => ['alice/app', 'alice/tools/cli', 'public/base', 'top'],
    pullToken: (_person, repository) => (repository.startsWith('alice/') ? () => 'token' : undefined),
    mayPush: (_person, repository) => repository.startsWith('alice/'),
    deleteToken: (_person, repository) => (repository.startsWith('alice/') ? () => 'delete-token' : undefined),
    namespaceAccess: (namespace) => (namespace === 'alice' ? [{who: {kind: 'account', name: 'alice'}, actions: ['*']}] : []),
    registry: {url: new URL('http://127.0.0.1:1'), host: 'registry.example'},
    sessions: {
      create: async ({idHash, person}) => void live.set(idHash, person),
      find: async (idHash) => live.get(idHash),
      end: async (idHash) => void live.delete(idHash),
    },
    activity: {ofRepository: async () => ({events: [], pulls: 0}), lastPushes: async () => new Map()},
    sessionLifetimeSeconds: 3600,
    nowSeconds: () => NOW,
    logger: pino({level: 'silent'}),
    ...changes,
  };
  const app = Fastify({loggerInstance: deps.logger});
  app.register(formBody);
  registerWebHub(app, deps);
  apps.push(app);
  return {app, live};
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const cookie = {cookie: `hub_session=${SESSION}`};

describe('the web hub', () => {
  it('shows the sign-in page to a browser without a session, with the strict headers', async () => {
    const {app} = webHub();
    const answer = await app.inject({url: '/web/repositories/alice/app'});
    expect(answer.statusCode).toBe(401);
    expect(answer.body).toContain('href="/web/sign-in?return=%2Fweb%2Frepositories%2Falice%2Fapp"');
    expect(answer.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' http://127.0.0.1:1; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(answer.headers).toMatchObject({'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'cache-control': 'no-store'});
    expect(answer.body).not.toMatch(/<script|style=/);
  });

  it('serves its stylesheet under its hash, for a year', async () => {
    const {app} = webHub();
    const home = await app.inject({url: '/web/', headers: cookie});
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(home.body)![1]!;
    expect(href).toMatch(/^\/web\/static\/style\.[a-f0-9]{16}\.css$/);
    const style = await app.inject({url: href});
    expect(style.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(style.body).toContain('prefers-color-scheme:dark');
  });

  it('lists the repositories one may pull by namespace, and filters them', async () => {
    const {app} = webHub();
    const all = await app.inject({url: '/web/', headers: cookie});
    expect(all.statusCode).toBe(200);
    expect(all.body.replace(/\s+/g, ' ')).toMatch(
      /<h2><a href="\/web\/namespaces\/alice">alice<\/a><\/h2> <ul class="names"> <li><a href="\/web\/repositories\/alice\/app">alice\/app<\/a><\/li>/,
    );
    expect(all.body).toContain('<h2>Top level</h2>');
    const filtered = await app.inject({url: '/web/?q=tools', headers: cookie});
    expect(filtered.body).toContain('alice/tools/cli');
    expect(filtered.body).not.toContain('public/base');
    expect(filtered.body.replace(/\s+/g, ' ')).toContain('1 of 4 repositories');
  });

  it('answers a repository one may not pull and a name that is none with the same 404', async () => {
    const {app} = webHub();
    const denied = await app.inject({url: '/web/repositories/bob/app', headers: cookie});
    const invalid = await app.inject({url: '/web/repositories/No..Name', headers: cookie});
    expect(denied.statusCode).toBe(404);
    expect(invalid.statusCode).toBe(404);
    expect(denied.body).toBe(invalid.body);
  });

  it('says the registry cannot be reached (503), never a stack trace', async () => {
    const {app} = webHub({pullableRepositories: async () => Promise.reject(new Error('connect ECONNREFUSED'))});
    const listing = await app.inject({url: '/web/', headers: cookie});
    expect(listing.statusCode).toBe(503);
    expect(listing.body).not.toContain('ECONNREFUSED');
    const repository = await app.inject({url: '/web/repositories/alice/app', headers: cookie});
    expect(repository.statusCode).toBe(503);
    expect(repository.body).toContain('The registry cannot be reached');
    expect(repository.body).not.toMatch(/at .*\.ts:\d+/);
    // Where hub-auth reaches the registry is for its log, not for the page.
    expect(repository.body).not.toContain('127.0.0.1:1');
  });

  it('refuses a sign-out from another site, or without the form token of the session; the session lives on', async () => {
    const {app, live} = webHub();
    const form = (fields: Record<string, string>, headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/web/sign-out',
        headers: {...cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers},
        payload: new URLSearchParams(fields).toString(),
      });
    const crossSite = await form({csrf: csrfTokenFor(SESSION)}, {'sec-fetch-site': 'cross-site', origin: 'https://evil.example'});
    expect(crossSite.statusCode).toBe(403);
    expect((await form({}, {'sec-fetch-site': 'same-origin'})).statusCode).toBe(403);
    expect((await form({csrf: csrfTokenFor('another-session')}, {})).statusCode).toBe(403);
    expect(live.size).toBe(1);
    const signOut = await form({csrf: csrfTokenFor(SESSION)}, {'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:5001'});
    expect(signOut.statusCode).toBe(303);
    // The provider does not answer (port 1): no end-session page to go to, so the sign-in page.
    expect(signOut.headers.location).toBe('/web/');
    expect(signOut.headers['set-cookie']).toBe('hub_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
    expect(live.size).toBe(0);
  });

  it('a namespace page says who may do what there, as the policy says, and lists what one may pull there', async () => {
    const {app} = webHub();
    const page = await app.inject({url: '/web/namespaces/alice', headers: cookie});
    expect(page.statusCode).toBe(200);
    const text = page.body.replace(/\s+/g, ' ');
    expect(text).toContain('<td>the account alice</td> <td>pull, push and delete</td> <td>all under alice/</td>');
    expect(text).toContain('<a href="/web/repositories/alice/tools/cli">alice/tools/cli</a>');
    expect(text).not.toContain('public/base');
    // Nothing one may pull there: the same 404 as a namespace that does not exist, or a name that is none.
    const nothing = await app.inject({url: '/web/namespaces/bob', headers: cookie});
    expect(nothing.statusCode).toBe(404);
    for (const url of ['/web/namespaces/..%2Fetc', '/web/namespaces/Alice', '/web/namespaces/alice%2F..']) {
      const odd = await app.inject({url, headers: cookie});
      expect(odd.statusCode, url).toBe(404);
      expect(odd.body).toBe(nothing.body);
    }
  });

  it('a delete is refused from another site, without the form token, and where the policy lets one not delete', async () => {
    const {app} = webHub();
    const post = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      app.inject({
        method: 'POST',
        url,
        headers: {...cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers},
        payload: new URLSearchParams(form).toString(),
      });
    const csrf = csrfTokenFor(SESSION);
    const digest = `sha256:${'a'.repeat(64)}`;
    const fromElsewhere = await post(
      '/web/repositories/alice/app/-/delete/v1',
      {csrf, digest},
      {'sec-fetch-site': 'cross-site', origin: 'https://evil.example'},
    );
    expect(fromElsewhere.statusCode).toBe(403);
    expect((await post('/web/repositories/alice/app/-/delete/v1', {digest})).statusCode).toBe(403);
    expect((await post('/web/repositories/alice/app/-/delete/v1', {csrf: 'guessed', digest})).statusCode).toBe(403);
    // Not alice's to delete, and a signature tag: no delete to confirm, the same 404 as for what is not there.
    expect((await post('/web/repositories/public/base/-/delete/v1', {csrf, digest})).statusCode).toBe(404);
    expect((await post(`/web/repositories/alice/app/-/delete/sha256-${'a'.repeat(64)}.sig`, {csrf, digest})).statusCode).toBe(404);
    expect((await app.inject({url: '/web/repositories/public/base/-/delete/v1', headers: cookie})).statusCode).toBe(404);
  });

  it('deletes the image that was confirmed, and nothing when its tag has moved since, or the registry has deletes off', async () => {
    const manifest = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: []});
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const deletes: string[] = [];
    let deletesEnabled = true;
    const registry = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/v2/alice/app/manifests/v1')
        return void res.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'}).end(manifest);
      if (req.method === 'DELETE') {
        deletes.push(`${req.url} ${req.headers.authorization}`);
        return void res.writeHead(deletesEnabled ? 202 : 405).end();
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    try {
      const {app} = webHub({
        registry: {url: new URL(`http://127.0.0.1:${(registry.address() as AddressInfo).port}`), host: 'registry.example'},
      });
      const post = (form: Record<string, string>) =>
        app.inject({
          method: 'POST',
          url: '/web/repositories/alice/app/-/delete/v1',
          headers: {...cookie, 'content-type': 'application/x-www-form-urlencoded'},
          payload: new URLSearchParams({csrf: csrfTokenFor(SESSION), ...form}).toString(),
        });
      expect((await post({digest: `sha256:${'b'.repeat(64)}`})).statusCode).toBe(409);
      expect(deletes).toEqual([]);
      const done = await post({digest});
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe('/web/repositories/alice/app');
      expect(deletes).toEqual([`/v2/alice/app/manifests/${digest} Bearer delete-token`]);
      deletesEnabled = false;
      const off = await post({digest});
      expect(off.statusCode).toBe(405);
      expect(off.body).toContain('does not allow deletes');
    } finally {
      await new Promise((resolve) => registry.close(resolve));
    }
  });

  it('asks for a registry token only for what it reads from the registry: a warm repository page asks for none', async () => {
    const manifest = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: []});
    const reads: string[] = [];
    const registry = createServer((req, res) => {
      reads.push(String(req.url));
      if (req.url?.startsWith('/v2/alice/app/tags/list'))
        return void res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({name: 'alice/app', tags: ['v1', 'v2']}));
      if (req.url?.startsWith('/v2/alice/app/manifests/'))
        return void res.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'}).end(manifest);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    try {
      let asked = 0;
      const {app} = webHub({
        registry: {url: new URL(`http://127.0.0.1:${(registry.address() as AddressInfo).port}`), host: 'registry.example'},
        pullToken: () => () => {
          asked++;
          return 'token';
        },
        deleteToken: () => () => {
          throw new Error('a page that deletes nothing signs no token to delete');
        },
      });
      const cold = await app.inject({url: '/web/repositories/alice/app', headers: cookie});
      expect(cold.statusCode).toBe(200);
      expect(asked).toBe(reads.length);
      expect(reads).toHaveLength(3);
      const warm = await app.inject({url: '/web/repositories/alice/app', headers: cookie});
      expect(warm.body).toBe(cold.body);
      expect(reads).toHaveLength(3);
      expect(asked).toBe(3);
    } finally {
      await new Promise((resolve) => registry.close(resolve));
    }
  });

  it('a callback without the sign-in cookie of this browser starts no session', async () => {
    const {app, live} = webHub();
    const answer = await app.inject({url: '/web/callback?code=stolen&state=x'});
    expect(answer.statusCode).toBe(400);
    expect(answer.body).toContain('not started in this browser');
    expect(live.size).toBe(1);
  });
});
