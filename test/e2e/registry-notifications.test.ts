import {createHash} from 'node:crypto';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {createServer, type IncomingHttpHeaders, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parse as parseYaml} from 'yaml';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {freePort, waitFor} from '@hub/test-stack/ports';
import {e2eEnabled} from '@hub/test-stack/prerequisites';
import {startDaemon, type Daemon} from '@hub/test-stack/process';
import {envelopeSchema, manifestEvents} from '../../packages/hub-auth/src/activity/notifications.js';
import {deployText} from '../../packages/hub-auth/test/deploy/deploy-files.js';

const TOKEN = 'a1b2c3d4e5f6notificationtoken';
const digestOf = (body: string | Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/**
 * The shipped compose file's REGISTRY_NOTIFICATIONS_ENDPOINTS, given to Debian's docker-registry
 * (distribution 2.8) as compose would: the registry reads it as YAML in place of the config's
 * endpoints, and sends its events with the token. Their shape is what hub-auth parses.
 */
describe.runIf(e2eEnabled(['docker-registry']))("the registry's notifications, set up as deploy/compose.yaml does", () => {
  let dir: string;
  let registry: Daemon;
  let listener: Server;
  let registryUrl: string;
  const received: Array<{headers: IncomingHttpHeaders; body: string}> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hub-notifications-'));
    listener = createServer((request, response) => {
      let body = '';
      request
        .on('data', (chunk) => (body += chunk))
        .on('end', () => {
          received.push({headers: request.headers, body});
          response.writeHead(200).end();
        });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const compose = parseYaml(deployText('compose.yaml')) as {services: {registry: {environment: Record<string, string>}}};
    // What compose makes of it: the token from .env, and (here) hub-auth on this machine.
    const endpoints = compose.services.registry.environment
      .REGISTRY_NOTIFICATIONS_ENDPOINTS!.replace(/\$\{HUB_AUTH_NOTIFICATION_TOKEN:\?[^}]*\}/, TOKEN)
      .replace('http://hub-auth:5001', `http://127.0.0.1:${(listener.address() as AddressInfo).port}`);
    const port = await freePort();
    const config = join(dir, 'config.yml');
    await writeFile(
      config,
      ['version: 0.1', 'log: {level: info}', 'storage: {inmemory: {}}', `http: {addr: "127.0.0.1:${port}"}`, ''].join('\n'),
    );
    registry = startDaemon('docker-registry', ['serve', config], {env: {...process.env, REGISTRY_NOTIFICATIONS_ENDPOINTS: endpoints}});
    registryUrl = `http://127.0.0.1:${port}`;
    await waitFor('docker-registry', async () => (await fetch(`${registryUrl}/v2/`)).status === 200, 30_000);
  });
  afterAll(async () => {
    await registry?.stop();
    await new Promise((resolve) => listener?.close(resolve));
    if (dir) await rm(dir, {recursive: true, force: true});
  });

  async function putBlob(body: Buffer): Promise<{digest: string; size: number}> {
    const started = await fetch(`${registryUrl}/v2/team/app/blobs/uploads/`, {method: 'POST'});
    const location = new URL(started.headers.get('location')!, registryUrl);
    location.searchParams.set('digest', digestOf(body));
    expect((await fetch(location, {method: 'PUT', body, headers: {'content-type': 'application/octet-stream'}})).status).toBe(201);
    return {digest: digestOf(body), size: body.length};
  }

  it('posts each manifest push with the token, in an envelope hub-auth keeps the push of', async () => {
    const config = await putBlob(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'));
    const layer = await putBlob(Buffer.from('not really a layer'));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {...config, mediaType: 'application/vnd.oci.image.config.v1+json'},
      layers: [{...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar'}],
    });
    const put = await fetch(`${registryUrl}/v2/team/app/manifests/v1`, {
      method: 'PUT',
      headers: {'content-type': 'application/vnd.oci.image.manifest.v1+json'},
      body: manifest,
    });
    expect(put.status).toBe(201);
    const tagged = () =>
      received.some(({body}) =>
        (JSON.parse(body) as {events: Array<{target: {tag?: string}}>}).events.some((event) => event.target.tag === 'v1'),
      );
    await expect.poll(tagged, {timeout: 10_000}).toBe(true);
    expect(new Set(received.map(({headers}) => headers.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));
    expect(new Set(received.map(({headers}) => headers['content-type']))).toEqual(
      new Set(['application/vnd.docker.distribution.events.v1+json']),
    );
    const events = received.flatMap(({body}) => manifestEvents(envelopeSchema.parse(JSON.parse(body))));
    expect(events).toEqual([
      expect.objectContaining({action: 'push', repository: 'team/app', tag: 'v1', digest: digestOf(manifest), size: manifest.length}),
    ]);
  });
});
