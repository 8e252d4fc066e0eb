import {existsSync} from 'node:fs';
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it, vi} from 'vitest';
import {withAccount} from '../../../src/config/accounts.js';
import {readSettings, saveRegistrySettings} from '../../../src/config/settings.js';
import {HubError} from '@hub/common/errors';
import {login, type LoginOptions} from '../../../src/flows/login.js';
import {logout} from '../../../src/flows/logout.js';
import {loggedIn, testWorld} from './world.js';
import {fakeHubAuth, type FakeHubAuth} from './fake-hub-auth.js';

// The provider, the browser and the registry, faked: these tests are about what the flows decide
// and store. The real ones are exercised end to end (test/e2e/login.test.ts and others).
const provider = vi.hoisted(() => ({
  user: {subject: 'sub-alice', account: 'alice'},
  revoke: vi.fn(async () => true),
}));
const registry = vi.hoisted(() => ({check: vi.fn(async (_registry: string, _token: string) => ({account: 'alice'}))}));

vi.mock('../../../src/auth/authorization-code-grant.js', () => ({
  // The browser login as the flow sees it: the browser comes back at once, and its code is worth the provider's tokens.
  startBrowserSignIn: async () => ({
    link: 'http://127.0.0.1:1/sign-in',
    callback: Promise.resolve(new URL('http://127.0.0.1:1/callback?code=c&state=s')),
    exchange: async () => ({access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 300, token_type: 'bearer'}),
    finish: async () => {},
  }),
}));
vi.mock('../../../src/auth/device-authorization-grant.js', () => ({supportsDeviceFlow: () => false, loginWithDevice: vi.fn()}));
vi.mock('../../../src/auth/token-grants.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../src/auth/token-grants.js')>()),
  whoSignedIn: async () => provider.user,
  revokeSession: provider.revoke,
}));
vi.mock('../../../src/registry/client.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../src/registry/client.js')>()),
  checkTokenWithRegistry: registry.check,
}));

const REGISTRY = 'registry.example.com';
const options = (more: Partial<LoginOptions> = {}): LoginOptions => ({
  registry: REGISTRY,
  issuer: 'https://id.example.com',
  clientId: 'hub',
  timeoutSeconds: 60,
  insecureStorage: false,
  device: false,
  ...more,
});

describe('login flow (memory store, faked provider and registry)', () => {
  it('stores the session, saves the settings and sends docker to hub for the registry', async () => {
    const world = await testWorld();
    const result = await login(world.ctx, {...options(), dockerConfig: world.dockerConfig});
    expect(result).toMatchObject({registry: REGISTRY, account: 'alice', issuer: 'https://id.example.com', storage: 'keychain'});
    expect(await world.stores.keychain.read(REGISTRY, 'alice')).toMatchObject({
      account: 'alice',
      subject: 'sub-alice',
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: 1_800_000_300,
    });
    expect((await readSettings(world.ctx.paths.settings)).registries[REGISTRY]).toMatchObject({
      storage: 'keychain',
      account: 'alice',
      clientId: 'hub',
    });
    expect((await world.dockerConfigFile()).credHelpers).toEqual({[REGISTRY]: 'hub'});
  });

  it("takes the registry's name for the account; a login as another adds it, active, and says who stays logged in", async () => {
    const world = await testWorld();
    await login(world.ctx, options({dockerConfig: 'none'}));
    registry.check.mockResolvedValueOnce({account: 'bob'});
    await login(world.ctx, options({dockerConfig: 'none'}));
    expect((await world.stores.keychain.read(REGISTRY, 'bob'))?.account).toBe('bob');
    expect((await world.stores.keychain.read(REGISTRY, 'alice'))?.account).toBe('alice');
    expect((await readSettings(world.ctx.paths.settings)).registries[REGISTRY]).toMatchObject({
      account: 'bob',
      accounts: {alice: {storage: 'keychain'}, bob: {storage: 'keychain'}},
    });
    expect(world.said.join('\n')).toContain(
      `✓ Logged in to ${REGISTRY} as bob (alice is still logged in; \`hub switch\` goes back; tokens in memory).`,
    );
  });

  it('a login again as an account already logged in replaces that account’s session only, and makes it active', async () => {
    const world = await testWorld();
    await login(world.ctx, options({dockerConfig: 'none'}));
    registry.check.mockResolvedValueOnce({account: 'bob'});
    await login(world.ctx, options({dockerConfig: 'none'}));
    const bobBefore = await world.stores.keychain.read(REGISTRY, 'bob');
    await world.stores.keychain.write({...(await world.stores.keychain.read(REGISTRY, 'alice'))!, accessToken: 'old-alice'});
    await login(world.ctx, options({dockerConfig: 'none'}));
    expect(world.stores.keychain.sessions.size).toBe(2);
    expect((await world.stores.keychain.read(REGISTRY, 'alice'))?.accessToken).toBe('access-1');
    expect(await world.stores.keychain.read(REGISTRY, 'bob')).toEqual(bobBefore);
    expect((await readSettings(world.ctx.paths.settings)).registries[REGISTRY]).toMatchObject({account: 'alice'});
    expect(world.said.at(-1)).toContain('as alice (bob is still logged in;');
  });

  it('stores nothing when the registry refuses the provider’s token', async () => {
    const world = await testWorld();
    registry.check.mockRejectedValueOnce(new HubError('refused', {code: 'token_refused'}));
    await expect(login(world.ctx, options({dockerConfig: 'none'}))).rejects.toMatchObject({code: 'token_refused'});
    expect(world.stores.keychain.sessions.size).toBe(0);
    expect((await readSettings(world.ctx.paths.settings)).registries).toEqual({});
  });

  it('moves the tokens when a login changes the storage, leaving no copy in the old store', async () => {
    const world = await testWorld();
    await login(world.ctx, options({dockerConfig: 'none'}));
    await login(world.ctx, options({dockerConfig: 'none', insecureStorage: true}));
    expect(world.stores.keychain.sessions.size).toBe(0);
    expect(await world.stores['insecure-file'].read(REGISTRY, 'alice')).toMatchObject({account: 'alice'});
  });

  it('--with-token keeps the presented token as it is, with the account the registry names', async () => {
    const world = await testWorld();
    registry.check.mockResolvedValueOnce({account: 'ci-bot'});
    const token = `e30.${Buffer.from(JSON.stringify({sub: 'robot-1', exp: 1_800_000_900})).toString('base64url')}.sig`;
    await login(world.ctx, options({dockerConfig: 'none', credential: {kind: 'access-token', value: token}}));
    expect(await world.stores.keychain.read(REGISTRY, 'ci-bot')).toMatchObject({
      account: 'ci-bot',
      subject: 'robot-1',
      accessToken: token,
      expiresAt: 1_800_000_900,
    });
  });
});

describe('logout flow with several accounts (memory store, faked provider)', () => {
  async function aliceThenBob() {
    const world = await testWorld();
    await login(world.ctx, {...options(), dockerConfig: world.dockerConfig});
    registry.check.mockResolvedValueOnce({account: 'bob'});
    await login(world.ctx, options({dockerConfig: 'none'}));
    provider.revoke.mockClear();
    return world;
  }

  it('logs out of the account --account names only: the active one and docker’s entry stay', async () => {
    const world = await aliceThenBob();
    expect(await logout(world.ctx, {registry: REGISTRY, all: false, account: 'alice'})).toEqual([
      {registry: REGISTRY, account: 'alice', revocation: 'revoked', registrySession: 'none', active: 'bob'},
    ]);
    expect(provider.revoke).toHaveBeenCalledOnce();
    expect([...world.stores.keychain.sessions.keys()]).toEqual([`bob@${REGISTRY}`]);
    expect((await readSettings(world.ctx.paths.settings)).registries[REGISTRY]).toMatchObject({account: 'bob', accounts: {bob: {}}});
    // bob's login passed --docker-config=none: the entry alice's login wrote serves bob too, and stays.
    expect((await world.dockerConfigFile()).credHelpers).toEqual({[REGISTRY]: 'hub'});
    expect(world.said.join('\n')).not.toContain('is now the active account');
  });

  it('without --account logs out of the active one, says who is active now, and the last one takes docker’s entry with it', async () => {
    const world = await aliceThenBob();
    expect(await logout(world.ctx, {registry: REGISTRY, all: false})).toMatchObject([{account: 'bob', active: 'alice'}]);
    expect(world.said).toContain(`✓ alice is now the active account of ${REGISTRY} (\`hub switch\` chooses another).`);
    expect((await world.dockerConfigFile()).credHelpers).toEqual({[REGISTRY]: 'hub'});
    expect(await logout(world.ctx, {registry: REGISTRY, all: false})).toEqual([
      {registry: REGISTRY, account: 'alice', revocation: 'revoked', registrySession: 'none'},
    ]);
    expect(world.stores.keychain.sessions.size).toBe(0);
    expect((await readSettings(world.ctx.paths.settings)).registries).toEqual({});
    expect((await world.dockerConfigFile()).credHelpers ?? {}).toEqual({});
  });

  it('--all logs out of every account, and refuses an account that is not logged in, naming those that are', async () => {
    const world = await aliceThenBob();
    await expect(logout(world.ctx, {registry: REGISTRY, all: false, account: 'carol'})).rejects.toMatchObject({
      code: 'not_logged_in',
      message: `carol is not logged in to ${REGISTRY}; logged in: alice, bob.`,
    });
    expect((await logout(world.ctx, {all: true})).map((r) => r.account)).toEqual(['alice', 'bob']);
    expect(world.said.join('\n')).not.toContain('is now the active account');
    expect(world.stores.keychain.sessions.size).toBe(0);
    expect((await world.dockerConfigFile()).credHelpers ?? {}).toEqual({});
  });
});

describe('logout flow (memory store, faked provider)', () => {
  it('revokes at the provider, forgets the session and the settings, and removes docker’s credHelpers entry', async () => {
    const world = await testWorld();
    await login(world.ctx, {...options(), dockerConfig: world.dockerConfig});
    provider.revoke.mockClear();
    expect(await logout(world.ctx, {registry: REGISTRY, all: false})).toEqual([
      {registry: REGISTRY, account: 'alice', revocation: 'revoked', registrySession: 'none'},
    ]);
    expect(provider.revoke).toHaveBeenCalledOnce();
    expect(world.stores.keychain.sessions.size).toBe(0);
    expect((await readSettings(world.ctx.paths.settings)).registries).toEqual({});
    expect((await world.dockerConfigFile()).credHelpers ?? {}).toEqual({});
  });

  it('forgets the session on this machine even when the provider cannot be reached', async () => {
    const world = await testWorld();
    await login(world.ctx, options({dockerConfig: 'none'}));
    provider.revoke.mockRejectedValueOnce(new TypeError('fetch failed'));
    expect(await logout(world.ctx, {registry: REGISTRY, all: false})).toEqual([
      {registry: REGISTRY, account: 'alice', revocation: 'failed', registrySession: 'none'},
    ]);
    expect(world.stores.keychain.sessions.size).toBe(0);
    expect(world.said.join('\n')).toContain('it was removed from this machine anyway');
  });

  it('says "not logged in" for a registry it knows nothing of', async () => {
    const world = await testWorld();
    await expect(logout(world.ctx, {registry: 'other.example.com', all: false})).rejects.toMatchObject({code: 'not_logged_in'});
  });
});

describe('logout flow with a registry behind hub-auth (faked hub-auth on loopback)', () => {
  const NOW = 1_800_000_000;

  async function signedIn() {
    const world = await testWorld({}, NOW);
    const hubAuth = await fakeHubAuth(() => NOW);
    const identityToken = hubAuth.identityToken(NOW - 60, NOW + 3600, 3600);
    await loggedIn(world, {identityToken: {token: identityToken, issuedAt: NOW - 60, expiresAt: NOW + 3600}}, hubAuth.host);
    return {world, hubAuth, identityToken};
  }

  it('with several accounts, the retry it suggests when hub-auth cannot end the sign-in names the account, not the active one', async () => {
    const {world, hubAuth} = await signedIn();
    const settings = (await readSettings(world.ctx.paths.settings)).registries[hubAuth.host]!;
    await saveRegistrySettings(world.ctx.paths.settings, hubAuth.host, withAccount(settings, 'bob', 'keychain'));
    await hubAuth.close();
    const refused = await logout(world.ctx, {registry: hubAuth.host, all: false, account: 'alice'}).catch((error: HubError) => error);
    expect(refused).toMatchObject({
      code: 'revocation_failed',
      suggestions: [
        `Run \`hub logout ${hubAuth.host} --account alice\` again once the registry answers.`,
        expect.stringContaining('--account alice --force'),
      ],
    });
    expect(await world.stores.keychain.read(hubAuth.host, 'alice')).toBeDefined();
  });

  it('ends the sign-in at hub-auth (RFC 7009, next to the realm) before it forgets the session here', async () => {
    const {world, hubAuth, identityToken} = await signedIn();
    provider.revoke.mockClear();
    provider.revoke.mockImplementationOnce(async () => {
      // The provider is asked after hub-auth, while the session is still here.
      expect(hubAuth.forms).toEqual([{path: '/revoke', form: {token: identityToken, token_type_hint: 'refresh_token'}}]);
      expect(await world.stores.keychain.read(hubAuth.host, 'alice')).toBeDefined();
      return true;
    });
    expect(await logout(world.ctx, {registry: hubAuth.host, all: false})).toEqual([
      {registry: hubAuth.host, account: 'alice', revocation: 'revoked', registrySession: 'ended'},
    ]);
    expect(provider.revoke).toHaveBeenCalledOnce();
    expect(world.stores.keychain.sessions.size).toBe(0);
    expect(world.said.join('\n')).toContain("the registry ended the sign-in (every copy of docker's identity token is refused)");
  });

  it.each([
    ['unreachable', async (hubAuth: FakeHubAuth) => hubAuth.close(), 'Cannot reach'],
    [
      'answering 503',
      async (hubAuth: FakeHubAuth) => void (hubAuth.revokeStatus = 503),
      'answered HTTP 503 to the revocation (try again in 5 s)',
    ],
  ])(
    'never claims a logout hub-auth did not do (%s): the session stays here for a retry, or goes with --force, said plainly',
    async (_case, breakIt, reason) => {
      const {world, hubAuth} = await signedIn();
      await breakIt(hubAuth);
      const refused = await logout(world.ctx, {registry: hubAuth.host, all: false}).catch((error: HubError) => error);
      expect(refused).toBeInstanceOf(HubError);
      expect(refused).toMatchObject({
        code: 'revocation_failed',
        message: expect.stringContaining(`Could not end the sign-in at ${hubAuth.host}'s token service: `),
        suggestions: [expect.stringContaining(`hub logout ${hubAuth.host}\` again`), expect.stringContaining('--force')],
      });
      expect((refused as HubError).message).toContain(reason);
      expect((refused as HubError).message).toContain('Nothing was removed from this machine');
      expect((refused as HubError).message).toContain('at most 1 h after the last re-check');
      expect(await world.stores.keychain.read(hubAuth.host, 'alice')).toBeDefined();
      expect((await readSettings(world.ctx.paths.settings)).registries[hubAuth.host]).toBeDefined();

      expect(await logout(world.ctx, {registry: hubAuth.host, all: false, force: true})).toMatchObject([{registrySession: 'not-ended'}]);
      expect(world.stores.keychain.sessions.size).toBe(0);
      expect(world.said.join('\n')).toMatch(/The sign-in at .* was not ended .*It was removed from this machine anyway \(--force\)/);
      expect(world.said.join('\n')).not.toContain('the registry ended the sign-in');
    },
  );

  it('says so when the token service has no revocation endpoint, and logs out', async () => {
    const {world, hubAuth} = await signedIn();
    hubAuth.revokeStatus = 404;
    expect(await logout(world.ctx, {registry: hubAuth.host, all: false})).toMatchObject([{registrySession: 'unsupported'}]);
    expect(world.stores.keychain.sessions.size).toBe(0);
    expect(world.said.join('\n')).toContain('token service offers no revocation: the sign-in there was not ended');
  });
});

describe('the containers auth file (podman, buildah) in login and logout', () => {
  const entryIn = async (file: string) => (JSON.parse(await readFile(file, 'utf8')) as {credHelpers?: object}).credHelpers;

  it('is left alone where neither podman nor buildah is installed and the file is not there', async () => {
    const world = await testWorld();
    const file = join(world.dir, 'containers', 'auth.json');
    world.ctx.env.REGISTRY_AUTH_FILE = file;
    const result = await login(world.ctx, options({dockerConfig: 'none'}));
    expect(result.containersAuth).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });

  it('gets the credHelpers entry when it exists, which logout removes; --containers-auth none leaves it', async () => {
    const world = await testWorld();
    const file = join(world.dir, 'auth.json');
    await writeFile(file, '{\n\t"auths": {}\n}');
    world.ctx.env.REGISTRY_AUTH_FILE = file;
    await login(world.ctx, options({dockerConfig: 'none', containersAuth: 'none'}));
    expect(await readFile(file, 'utf8')).toBe('{\n\t"auths": {}\n}');
    expect((await login(world.ctx, options({dockerConfig: 'none'}))).containersAuth).toBe(file);
    expect(await entryIn(file)).toEqual({[REGISTRY]: 'hub'});
    expect(world.said).toContain(`✓ podman and buildah use hub for ${REGISTRY} (credHelpers in ${file}).`);
    await logout(world.ctx, {registry: REGISTRY, all: false});
    expect(await readFile(file, 'utf8')).toBe('{\n\t"auths": {}\n}');
  });

  it('is the file --containers-auth names, written even with no containers tool installed', async () => {
    const world = await testWorld();
    const file = join(world.dir, 'named', 'auth.json');
    await login(world.ctx, options({dockerConfig: 'none', containersAuth: file}));
    expect(await entryIn(file)).toEqual({[REGISTRY]: 'hub'});
  });
});
