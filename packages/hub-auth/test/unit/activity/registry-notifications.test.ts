import Fastify from 'fastify';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {registryActivity} from '../../../src/activity/registry-activity.js';
import {NOTIFICATION_MEDIA_TYPE} from '../../../src/activity/notifications.js';
import {REGISTRY_NOTIFICATIONS_PATH} from '@hub/protocol/hub-auth-endpoints';
import {registerRegistryNotificationsRoute} from '../../../src/http/routes/registry-notifications.js';
import type {Store} from '../../../src/store/open-store.js';
import {StoreUnavailableError} from '../../../src/store/sql.js';
import {BACKENDS, countingStatements, emptied} from '../../stores.js';

const TOKEN = 'notification-token-for-the-tests';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** An event as distribution 2.8 sends it (docs: "Work with notifications"). */
function event(
  id: string,
  action: string,
  fields: {repository?: string; tag?: string; digest?: string; mediaType?: string; at?: string; actor?: string; agent?: string} = {},
) {
  return {
    id,
    timestamp: fields.at ?? '2026-12-07T10:00:00.123456789Z',
    action,
    target: {
      mediaType: fields.mediaType ?? MANIFEST,
      size: 527,
      digest: fields.digest ?? DIGEST,
      length: 527,
      repository: fields.repository ?? 'alice/app',
      url: `http://registry/v2/alice/app/manifests/${fields.digest ?? DIGEST}`,
      ...(fields.tag === undefined ? {} : {tag: fields.tag}),
    },
    request: {id: 'r', addr: '127.0.0.1:1234', host: 'registry', method: 'PUT', useragent: fields.agent ?? 'docker/27.0'},
    actor: {name: fields.actor ?? 'alice'},
    source: {addr: 'registry:5000', instanceID: 'i'},
  };
}

describe.each(BACKENDS)("the registry's notifications on $kind PostgreSQL", (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.fresh();
  });
  afterAll(async () => store?.close());

  async function endpoint(activity = registryActivity(store)) {
    const app = Fastify();
    registerRegistryNotificationsRoute(app, {activity}, TOKEN);
    const post = (body: unknown, token = TOKEN) =>
      app.inject({
        method: 'POST',
        url: REGISTRY_NOTIFICATIONS_PATH,
        headers: {'content-type': NOTIFICATION_MEDIA_TYPE, authorization: `Bearer ${token}`},
        payload: JSON.stringify(body),
      });
    return {app, post, activity};
  }

  it("keeps manifest pushes and deletes once each, counts pulls, and leaves out blobs and the web hub's own reads", async () => {
    await emptied(store);
    const {post, activity} = await endpoint();
    const envelope = {
      events: [
        event('1', 'push', {tag: 'v1', at: '2026-12-07T10:00:00Z'}),
        event('2', 'push', {mediaType: 'application/octet-stream', digest: OTHER}),
        event('3', 'pull', {tag: 'v1'}),
        event('4', 'pull', {digest: DIGEST}),
        event('5', 'pull', {tag: 'v1', agent: 'hub-web'}),
        event('6', 'mount'),
        event('7', 'delete', {mediaType: undefined as unknown as string, at: '2026-12-07T11:00:00Z'}),
      ],
    };
    const first = await post(envelope);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({received: 7, kept: 2});
    // The registry sends an envelope again until it is answered: the same events are kept once.
    expect((await post({events: envelope.events.filter((e) => e.action !== 'pull')})).json()).toMatchObject({kept: 0});
    const {events, pulls} = await activity.ofRepository('alice/app', 10);
    expect(events).toEqual([
      {action: 'delete', at: Date.parse('2026-12-07T11:00:00Z') / 1000, tag: undefined, digest: DIGEST, size: 527, by: 'alice'},
      {action: 'push', at: Date.parse('2026-12-07T10:00:00Z') / 1000, tag: 'v1', digest: DIGEST, size: 527, by: 'alice'},
    ]);
    expect(pulls).toBe(2);
    expect([...(await activity.lastPushes(['alice/app', 'bob/tool'])).keys()]).toEqual(['alice/app']);
  });

  it('refuses a wrong or missing token, and keeps nothing of it', async () => {
    await emptied(store);
    const {post, app, activity} = await endpoint();
    expect((await post({events: [event('1', 'push', {tag: 'v1'})]}, 'guess')).statusCode).toBe(401);
    const bare = await app.inject({
      method: 'POST',
      url: REGISTRY_NOTIFICATIONS_PATH,
      headers: {'content-type': 'application/json'},
      payload: '{"events":[]}',
    });
    expect(bare.statusCode).toBe(401);
    expect((await activity.ofRepository('alice/app', 10)).events).toEqual([]);
  });

  it('refuses what is not an envelope, and leaves out events whose names the registry could not have sent', async () => {
    await emptied(store);
    const {post, activity} = await endpoint();
    expect((await post({events: 'no'})).statusCode).toBe(400);
    expect((await post([])).statusCode).toBe(400);
    const odd = [
      event('1', 'push', {repository: '../../etc'}),
      event('2', 'push', {tag: '<script>'}),
      event('3', 'push', {digest: 'sha256:short'}),
    ];
    expect((await post({events: odd})).json()).toMatchObject({received: 3, kept: 0});
    expect((await activity.ofRepository('alice/app', 10)).events).toEqual([]);
  });

  it("reads a repository's activity once for a burst of pages, and shows what this instance records at once", async () => {
    const {store: counted, sent} = countingStatements(await emptied(store));
    const {post, activity} = await endpoint(registryActivity(counted));
    const reads = () => sent(/FROM registry_events WHERE repository = \$1 ORDER BY/);
    await post({events: [event('1', 'push', {tag: 'v1', at: '2026-12-07T10:00:00Z'})]});
    for (let page = 0; page < 5; page++) expect((await activity.ofRepository('alice/app', 10)).events).toHaveLength(1);
    expect(reads()).toBe(1);
    await post({events: [event('2', 'push', {tag: 'v2', at: '2026-12-07T10:01:00Z'}), event('3', 'pull', {tag: 'v1'})]});
    expect(await activity.ofRepository('alice/app', 10)).toMatchObject({events: [{tag: 'v2'}, {tag: 'v1'}], pulls: 1});
    expect(reads()).toBe(2);
  });

  it('answers 503 when the store cannot keep them, so that the registry sends them again', async () => {
    const down = async () => {
      throw new StoreUnavailableError('connection refused');
    };
    const {post} = await endpoint({...registryActivity(store), record: down});
    expect((await post({events: [event('1', 'push', {tag: 'v1'})]})).statusCode).toBe(503);
  });
});
