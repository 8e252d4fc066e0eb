import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {Configuration} from 'openid-client';
import {afterEach} from 'vitest';
import {createContext, type Context} from '../../../src/context.js';
import type {StorageKind} from '../../../src/config/settings.js';
import {MemoryStore} from '../../../src/store/memory.js';
import type {Session} from '../../../src/store/session.js';
import {saveRegistrySettings} from '../../../src/config/settings.js';

/**
 * The outside world of a flow test: hub's files in a temporary folder of their own, the tokens in
 * memory stores (one per storage kind), no browser and a provider that is only a name (the tests
 * fake the modules that would talk to it). Everything else is the real context.
 */
export interface TestWorld {
  ctx: Context;
  stores: Record<StorageKind, MemoryStore>;
  said: string[];
  dir: string;
  dockerConfig: string;
  /** What docker's config.json in `dockerConfig` holds now. */
  dockerConfigFile(): Promise<{credHelpers?: Record<string, string>}>;
}

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, {recursive: true, force: true})));
});

/** An OIDC configuration as the flows see it: they hand it on to the (faked) grant modules. */
export const fakeOidcConfig = {serverMetadata: () => ({issuer: 'https://id.example.com'})} as unknown as Configuration;

export async function testWorld(env: NodeJS.ProcessEnv = {}, now = 1_800_000_000): Promise<TestWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-flow-'));
  folders.push(dir);
  const said: string[] = [];
  const stores = {keychain: new MemoryStore(), 'insecure-file': new MemoryStore()};
  const dockerConfig = join(dir, 'docker');
  const ctx: Context = {
    ...createContext((line) => said.push(line), {HUB_CONFIG_DIR: join(dir, 'hub'), DOCKER_CONFIG: dockerConfig, PATH: '', ...env}),
    nowSeconds: () => now,
    confirm: async () => undefined,
    choose: async () => undefined,
    openBrowser: async () => true,
    browserAvailable: true,
    store: (kind) => stores[kind],
    discover: async () => fakeOidcConfig,
  };
  return {
    ctx,
    stores,
    said,
    dir,
    dockerConfig,
    dockerConfigFile: async () =>
      JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as {credHelpers?: Record<string, string>},
  };
}

/** alice logged in to `registry` (registry.example.com), her session's tokens good for ten minutes more: `session` changes it. */
export async function loggedIn(world: TestWorld, session: Partial<Session> = {}, registry = 'registry.example.com'): Promise<void> {
  await saveRegistrySettings(world.ctx.paths.settings, registry, {
    issuer: 'https://id.example.com',
    clientId: 'hub',
    scopes: 'openid',
    storage: 'keychain',
    account: 'alice',
    accounts: {alice: {storage: 'keychain'}},
  });
  await world.stores.keychain.write({
    registry,
    issuer: 'https://id.example.com',
    clientId: 'hub',
    account: 'alice',
    subject: 'sub-alice',
    accessToken: 'access-1',
    refreshToken: 'refresh-1',
    expiresAt: world.ctx.nowSeconds() + 600,
    ...session,
  });
}
