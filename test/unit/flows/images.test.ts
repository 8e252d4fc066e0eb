import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {createContext} from '../../../src/context.js';
import {imageLines, images, nothingToList} from '../../../src/flows/images.js';

describe('what hub images prints', () => {
  it('one image a line, and nothing said besides', () => {
    const result = {registry: 'r.example.com', repositories: [{name: 'alice/app'}, {name: 'team/api', tags: ['1.0', '2.0']}]};
    expect(imageLines(result)).toEqual(['r.example.com/alice/app', 'r.example.com/team/api:1.0', 'r.example.com/team/api:2.0']);
    expect(nothingToList(result)).toBeUndefined();
  });

  it('says so when the user may pull nothing, or a repository has no tags, instead of printing nothing', () => {
    expect(imageLines({registry: 'r.example.com', repositories: []})).toEqual([]);
    expect(nothingToList({registry: 'r.example.com', repositories: []})).toBe('There is nothing on r.example.com that you may pull.');
    expect(nothingToList({registry: 'r.example.com', repositories: [{name: 'alice/app', tags: []}]})).toBe(
      'r.example.com/alice/app has no tags.',
    );
  });
});

describe('what hub images prints at a terminal', () => {
  it("adds each tag's last push in a column of its own, where the token service knows it", () => {
    const result = {
      registry: 'r.example.com',
      repositories: [
        {
          name: 'alice/app',
          tags: ['1.0', 'latest', 'old'],
          pushes: {
            '1.0': {digest: 'sha256:a', by: 'alice', at: '2026-12-07T10:00:00.000Z'},
            latest: {digest: 'sha256:a', by: null, at: '2026-12-07T11:30:00.000Z'},
          },
        },
      ],
    };
    expect(imageLines(result, {withPushes: true})).toEqual([
      'r.example.com/alice/app:1.0     pushed 2026-12-07 10:00:00 UTC by alice',
      'r.example.com/alice/app:latest  pushed 2026-12-07 11:30:00 UTC',
      'r.example.com/alice/app:old',
    ]);
    // Piped: the bare references, which push and pull take back.
    expect(imageLines(result)).toEqual(['r.example.com/alice/app:1.0', 'r.example.com/alice/app:latest', 'r.example.com/alice/app:old']);
  });
});

describe('hub images REPOSITORY', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A registry whose token service grants pull on alice/app and whose alice/app has two tags. */
  async function registryWithAliceApp(): Promise<string> {
    const access = [{type: 'repository', name: 'alice/app', actions: ['pull']}];
    const token = `e30.${Buffer.from(JSON.stringify({access})).toString('base64url')}.sig`;
    server = createServer((req, res) => {
      const here = `http://${req.headers.host}`;
      if (req.url === '/v2/') res.writeHead(401, {'www-authenticate': `Bearer realm="${here}/token",service="reg"`}).end();
      else if (req.url?.startsWith('/token')) res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({token}));
      else if (req.url === '/v2/alice/app/tags/list') res.writeHead(200).end(JSON.stringify({name: 'alice/app', tags: ['1.0', '2.0']}));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('takes back what hub images prints: REGISTRY/alice/app, and REGISTRY/alice/app:TAG for that tag', async () => {
    const registry = await registryWithAliceApp();
    const ctx = createContext(() => {}, {
      HUB_CONFIG_DIR: '/nonexistent/hub-images-test',
      HUB_TOKEN: 'e30.e30.sig',
      HUB_REGISTRY: registry,
      HUB_USERNAME: 'alice',
    });
    const tags = {registry, repositories: [{name: 'alice/app', tags: ['1.0', '2.0']}]};
    expect(await images(ctx, {repository: `${registry}/alice/app`})).toEqual(tags);
    expect(await images(ctx, {repository: 'app'})).toEqual(tags);
    expect(await images(ctx, {repository: `${registry}/alice/app:2.0`})).toEqual({
      registry,
      repositories: [{name: 'alice/app', tags: ['2.0']}],
    });
  });

  it('uses the registry a printed name carries, not the default one', async () => {
    const ctx = createContext(() => {}, {
      HUB_CONFIG_DIR: '/nonexistent/hub-images-test',
      HUB_TOKEN: 'e30.e30.sig',
      HUB_REGISTRY: 'r.example.com',
    });
    await expect(images(ctx, {repository: 'other.example.com/alice/app'})).rejects.toMatchObject({code: 'token_for_other_registry'});
  });
});
