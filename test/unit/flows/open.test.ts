import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {HubError} from '@hub/common/errors';
import {openWebHub} from '../../../src/flows/open.js';
import {loggedIn, testWorld} from './world.js';

describe('hub open', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A registry whose token service (the same address) publishes `webHub` as its web hub, given the address it answers at. */
  async function registryPublishing(webHub: ((here: string) => string) | undefined): Promise<string> {
    server = createServer((req, res) => {
      const here = `http://${req.headers.host}`;
      if (req.url === '/v2/') res.writeHead(401, {'www-authenticate': `Bearer realm="${here}/token",service="reg"`}).end();
      else if (req.url === '/.well-known/hub-configuration')
        res
          .writeHead(200, {'content-type': 'application/json'})
          .end(JSON.stringify({issuer: 'https://id.example.com', client_id: 'hub', ...(webHub && {web_hub: webHub(here)})}));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function world(registry: string) {
    const opened: string[] = [];
    const made = await testWorld();
    await loggedIn(made, {}, registry);
    made.ctx.openBrowser = async (url) => (opened.push(url), true);
    return {ctx: made.ctx, opened};
  }

  it("opens an image's page by tag or digest, a repository's, and the home, a bare name in your namespace", async () => {
    const registry = await registryPublishing((here) => `${here}/web/`);
    const {ctx, opened} = await world(registry);
    const web = `http://${registry}/web`;
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(await openWebHub(ctx, {image: 'app:1.0'})).toEqual({registry, url: `${web}/repositories/alice/app/-/images/1.0`, opened: true});
    await openWebHub(ctx, {image: `${registry}/team/app@${digest}`});
    await openWebHub(ctx, {image: 'team/app'});
    await openWebHub(ctx, {});
    expect(opened.slice(1)).toEqual([
      `${web}/repositories/team/app/-/images/${encodeURIComponent(digest)}`,
      `${web}/repositories/team/app`,
      `${web}/`,
    ]);
  });

  it('gives the address to open elsewhere when there is no browser here', async () => {
    const registry = await registryPublishing((here) => `${here}/web/`);
    const {ctx} = await world(registry);
    ctx.browserAvailable = false;
    expect(await openWebHub(ctx, {})).toMatchObject({url: `http://${registry}/web/`, opened: false});
  });

  it('opens a web hub elsewhere than the realm, as the token service names it (behind another ingress)', async () => {
    const registry = await registryPublishing(() => 'https://hub.example.com/web/');
    const {ctx, opened} = await world(registry);
    await openWebHub(ctx, {image: 'app'});
    expect(opened).toEqual(['https://hub.example.com/web/repositories/alice/app']);
  });

  it('never opens a web hub in plain http off this machine: the browser would sign in there in the clear', async () => {
    const registry = await registryPublishing(() => 'http://hub.example.com/web/');
    const {ctx, opened} = await world(registry);
    const refused = await openWebHub(ctx, {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HubError);
    expect((refused as HubError).code).toBe('insecure_web_hub');
    expect((refused as HubError).message).toContain('http://hub.example.com');
    expect(opened).toEqual([]);
  });

  it('says so, and what to do, when the token service serves no web hub', async () => {
    const registry = await registryPublishing(undefined);
    const {ctx} = await world(registry);
    await expect(openWebHub(ctx, {})).rejects.toMatchObject({code: 'no_web_hub', message: expect.stringContaining('has no web hub')});
  });
});
