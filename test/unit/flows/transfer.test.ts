import {PassThrough} from 'node:stream';
import {describe, expect, it, vi} from 'vitest';
import {setTimeout as sleep} from 'node:timers/promises';
import {currentSession} from '../../../src/session/credentials.js';
import {pull, push} from '../../../src/flows/transfer.js';
import {loggedIn, testWorld} from './world.js';
import {fakeHubAuth} from './fake-hub-auth.js';

// The provider's token endpoint and the Docker engine, faked: these tests are about which session
// a flow hands out, refreshes or keeps, and what it asks the engine to do with it.
const provider = vi.hoisted(() => ({renew: vi.fn()}));
const engine = vi.hoisted(() => ({
  connect: vi.fn(),
  tag: vi.fn(async (_options: {repo: string; tag: string}) => {}),
  /** The names the engine has: inspect finds them, remove takes them away. */
  names: new Set<string>(),
  removed: [] as string[],
  push: vi.fn(async (..._args: unknown[]) => ({digest: 'sha256:pushed'})),
  pull: vi.fn(async (..._args: unknown[]) => ({digest: 'sha256:pulled'})),
}));

vi.mock('../../../src/auth/token-grants.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../src/auth/token-grants.js')>()),
  renewalGrant: provider.renew,
}));
vi.mock('../../../src/docker/engine.js', () => ({connectEngine: engine.connect}));
vi.mock('../../../src/docker/transfer.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../src/docker/transfer.js')>()),
  pushImage: engine.push,
  pullImage: engine.pull,
}));

const REGISTRY = 'registry.example.com';
const NOW = 1_800_000_000;

describe('token flow (memory store, faked provider)', () => {
  it('hands out the stored token while it is good for more than a minute, without asking the provider', async () => {
    const world = await testWorld({}, NOW);
    await loggedIn(world);
    provider.renew.mockClear();
    expect((await currentSession(world.ctx, undefined)).session).toMatchObject({accessToken: 'access-1'});
    expect(provider.renew).not.toHaveBeenCalled();
  });

  it('refreshes a token that expires within a minute and stores the new tokens', async () => {
    const world = await testWorld({}, NOW);
    await loggedIn(world, {expiresAt: NOW + 30});
    provider.renew.mockResolvedValueOnce({access_token: 'access-2', refresh_token: 'refresh-2', expires_in: 300, token_type: 'bearer'});
    expect((await currentSession(world.ctx, REGISTRY)).session).toMatchObject({accessToken: 'access-2', expiresAt: NOW + 300});
    expect(await world.stores.keychain.read(REGISTRY, 'alice')).toMatchObject({
      accessToken: 'access-2',
      refreshToken: 'refresh-2',
      account: 'alice',
    });
  });

  it('keeps the session when the provider cannot be reached, so that the next try can still refresh', async () => {
    const world = await testWorld({}, NOW);
    await loggedIn(world, {expiresAt: NOW + 30});
    provider.renew.mockRejectedValueOnce(
      Object.assign(new TypeError('fetch failed'), {cause: Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})}),
    );
    await expect(currentSession(world.ctx, REGISTRY)).rejects.toMatchObject({code: 'refresh_failed'});
    expect(await world.stores.keychain.read(REGISTRY, 'alice')).toMatchObject({accessToken: 'access-1', refreshToken: 'refresh-1'});
  });

  it('says the session ended when the token expired and there is nothing to refresh it with', async () => {
    const world = await testWorld({}, NOW);
    await loggedIn(world, {expiresAt: NOW - 1, refreshToken: undefined});
    await expect(currentSession(world.ctx, REGISTRY)).rejects.toMatchObject({code: 'session_ended'});
  });

  it('prefers HUB_TOKEN to the stored session, and says "not logged in" without either', async () => {
    const world = await testWorld({HUB_TOKEN: 'e30.e30.sig', HUB_REGISTRY: REGISTRY, HUB_USERNAME: 'ci'}, NOW);
    await loggedIn(world);
    expect((await currentSession(world.ctx, REGISTRY)).session).toMatchObject({accessToken: 'e30.e30.sig', account: 'ci'});
    await expect(currentSession((await testWorld({}, NOW)).ctx, REGISTRY)).rejects.toMatchObject({code: 'not_logged_in'});
  });
});

describe('push and pull flows (memory store, faked engine)', () => {
  const fakeEngine = () => ({
    docker: {
      getImage: (name: string) => ({
        tag: engine.tag,
        inspect: async () => {
          if (!engine.names.has(name)) throw Object.assign(new Error('no such image'), {statusCode: 404});
        },
        remove: async () => void engine.removed.push(name),
      }),
    },
    address: {},
  });
  const transfer = (image: string) => ({image, progress: 'plain' as const, out: new PassThrough()});

  it("push tags a bare name under the registry and the person's namespace and pushes it with the session's token", async () => {
    const world = await testWorld({}, NOW);
    await loggedIn(world);
    engine.connect.mockResolvedValue(fakeEngine());
    engine.tag.mockClear();
    engine.push.mockClear();
    expect(await push(world.ctx, transfer('myapp:1.0'))).toEqual({reference: `${REGISTRY}/alice/myapp:1.0`, digest: 'sha256:pushed'});
    expect(engine.tag).toHaveBeenCalledWith({repo: `${REGISTRY}/alice/myapp`, tag: '1.0'});
    expect(engine.push.mock.calls[0]?.slice(1, 4)).toEqual([
      `${REGISTRY}/alice/myapp`,
      '1.0',
      {username: 'alice', password: 'access-1', serveraddress: REGISTRY},
    ]);
  });

  it('pull resolves the same name and pulls with the refreshed token when the stored one is about to expire', async () => {
    const world = await testWorld({}, NOW);
    await loggedIn(world, {expiresAt: NOW + 10});
    engine.connect.mockResolvedValue(fakeEngine());
    provider.renew.mockResolvedValueOnce({access_token: 'access-2', expires_in: 300, token_type: 'bearer'});
    engine.pull.mockClear();
    expect(await pull(world.ctx, transfer('myapp:1.0'))).toEqual({reference: `${REGISTRY}/alice/myapp:1.0`, digest: 'sha256:pulled'});
    expect(engine.pull.mock.calls[0]?.slice(1, 3)).toEqual([
      `${REGISTRY}/alice/myapp:1.0`,
      {username: 'alice', password: 'access-2', serveraddress: REGISTRY},
    ]);
  });

  it('reports a missing session before an engine that cannot be reached', async () => {
    const world = await testWorld({}, NOW);
    engine.connect.mockRejectedValue(new Error('engine down'));
    await expect(push(world.ctx, transfer(`${REGISTRY}/alice/myapp:1.0`))).rejects.toMatchObject({code: 'not_logged_in'});
  });

  it('turns the registry’s refusal into the names hub-auth says the account may push to, and takes back the tag it made', async () => {
    const world = await testWorld({}, NOW);
    const hubAuth = await fakeHubAuth(() => NOW);
    hubAuth.namespaces = {account: 'alice', push: ['alice/*', 'groups/dev/*'], pull: ['library/*', 'alice/*', 'groups/dev/*']};
    await loggedIn(world, {}, hubAuth.host);
    engine.connect.mockResolvedValue(fakeEngine());
    engine.removed.length = 0;
    const {TransferError} = await import('../../../src/docker/transfer.js');
    engine.push.mockRejectedValueOnce(new TransferError('denied: requested access to the resource is denied'));
    const refused = await push(world.ctx, transfer('dev/teamapp:1')).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      code: 'denied',
      message: `The registry refused to let you push ${hubAuth.host}/dev/teamapp:1: denied: requested access to the resource is denied.`,
      suggestions: [
        `Did you mean ${hubAuth.host}/groups/dev/teamapp? That is where dev's namespace is on ${hubAuth.host}.`,
        `As alice you may push to ${hubAuth.host}/alice/… and ${hubAuth.host}/groups/dev/…; ask the registry's administrator for access to others.`,
      ],
    });
    expect(engine.removed).toEqual([`${hubAuth.host}/dev/teamapp:1`]);
  });

  it('leaves a tag the engine had before a refused push, and keeps hub’s tag when the push was only interrupted', async () => {
    const world = await testWorld({}, NOW);
    const hubAuth = await fakeHubAuth(() => NOW);
    await loggedIn(world, {}, hubAuth.host);
    engine.connect.mockResolvedValue(fakeEngine());
    engine.removed.length = 0;
    engine.names.add(`${hubAuth.host}/alice/had:1`);
    const {TransferError} = await import('../../../src/docker/transfer.js');
    engine.push.mockRejectedValueOnce(new TransferError('denied: requested access to the resource is denied'));
    // A token service that does not list names (404): the refusal says to ask.
    await expect(push(world.ctx, transfer('had:1'))).rejects.toMatchObject({
      code: 'denied',
      suggestions: ["Ask the registry's administrator where alice may push."],
    });
    engine.push.mockRejectedValueOnce(new TransferError('received unexpected HTTP status: 503 Service Unavailable'));
    await expect(push(world.ctx, transfer('myapp:1'))).rejects.toMatchObject({code: 'push_interrupted'});
    expect(engine.removed).toEqual([]);
  });

  it('says what the account may pull when a pull is refused, without docker’s advice to docker login', async () => {
    const world = await testWorld({}, NOW);
    const hubAuth = await fakeHubAuth(() => NOW);
    hubAuth.namespaces = {account: 'alice', push: ['alice/*'], pull: ['library/*', 'alice/*']};
    await loggedIn(world, {}, hubAuth.host);
    engine.connect.mockResolvedValue(fakeEngine());
    const {TransferError} = await import('../../../src/docker/transfer.js');
    engine.pull.mockRejectedValueOnce(
      new TransferError(
        `pull access denied for ${hubAuth.host}/bob/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
      ),
    );
    const refused = (await pull(world.ctx, transfer(`${hubAuth.host}/bob/app:1`)).catch((error: unknown) => error)) as {
      message: string;
      suggestions: string[];
    };
    expect(refused.message).toBe(
      `The registry refused to let you pull ${hubAuth.host}/bob/app:1: pull access denied for ${hubAuth.host}/bob/app, ` +
        'repository does not exist or this account may not pull it: denied: requested access to the resource is denied.',
    );
    expect(refused.suggestions).toEqual([
      `As alice you may pull ${hubAuth.host}/library/… and ${hubAuth.host}/alice/…; ask the registry's administrator for access to others.`,
    ]);
  });

  it('says a missing local image plainly', async () => {
    const world = await testWorld({}, NOW);
    await loggedIn(world);
    engine.connect.mockResolvedValue(fakeEngine());
    engine.tag.mockRejectedValueOnce(Object.assign(new Error('no such image'), {statusCode: 404}));
    await expect(push(world.ctx, transfer('nothing:1.0'))).rejects.toMatchObject({code: 'no_such_image'});
  });

  it('keeps the engine’s session re-checked at hub-auth for as long as a push runs, with the identity token it holds, and stops after', async () => {
    const world = await testWorld({}, NOW);
    let clock = NOW;
    world.ctx.nowSeconds = () => clock;
    const hubAuth = await fakeHubAuth(() => clock);
    hubAuth.recheckSeconds = 2;
    const engineToken = hubAuth.identityToken(NOW, NOW + 8 * 3600);
    await loggedIn(
      world,
      {refreshToken: undefined, identityToken: {token: engineToken, issuedAt: NOW, expiresAt: NOW + 8 * 3600}},
      hubAuth.host,
    );
    engine.connect.mockResolvedValue(fakeEngine());
    engine.push.mockClear();
    engine.push.mockImplementationOnce(async () => {
      // A push that outlasts the window (2 s here) as often as it takes hub to re-check twice (a loaded
      // machine runs hub's timer late): the clock moves with the push.
      const trades = () => hubAuth.forms.filter((sent) => sent.path === '/token').length;
      for (let step = 0; step < 6 || (trades() < 2 && step < 60); step++) {
        await sleep(400);
        clock += 1;
      }
      return {digest: 'sha256:pushed'};
    });
    await push(world.ctx, transfer(`${hubAuth.host}/alice/myapp:1.0`));
    expect(engine.push.mock.calls[0]?.[3]).toMatchObject({identitytoken: engineToken});
    const trades = hubAuth.forms.filter((sent) => sent.path === '/token');
    expect(trades.length).toBeGreaterThanOrEqual(2);
    expect(trades[0]?.form).toMatchObject({
      grant_type: 'password',
      access_type: 'offline',
      password: 'access-1',
      refresh_token: engineToken,
    });
    const after = hubAuth.forms.length;
    clock += 10;
    await sleep(1000);
    expect(hubAuth.forms.length).toBe(after);
  });
});
