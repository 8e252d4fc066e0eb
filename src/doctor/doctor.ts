import {readSettings, type RegistrySettings} from '../config/settings.js';
import type {Context} from '../context.js';
import {checkContainersHelper, checkCredentialHelper} from './credential-helper-check.js';
import {CheckFailed, Checkup, type CheckResult, type Passed} from './checkup.js';
import {askRegistry, checkHubAuth, checkRegistry} from './registry-checks.js';
import {connectEngine, describeEngine} from '../docker/engine.js';
import {chooseRegistry, registryAt, type Registry} from '../registry/registry.js';
import {withSessionUnderAccount} from '../session/accounts.js';
import {sessionDeps} from '../session/credentials.js';
import {freshSession} from '../session/refresh.js';
import type {Session} from '../store/session.js';

/** The registry doctor checks, which login left settings for. */
interface Target {
  registry: Registry;
  settings: RegistrySettings;
}

/**
 * `hub doctor`: every link from hub's settings to plain `docker pull`, for one registry. A link
 * that fails does not stop the checks that can go on without it; one that builds on it says so.
 */
export async function doctor(ctx: Context, named: string | undefined): Promise<CheckResult[]> {
  const checkup = new Checkup(ctx.say);
  const target = await checkup.run('config', () => checkConfig(ctx, named));
  await checkup.run('keychain', () => checkKeychain(ctx, checkup.need('config', target)));
  await checkup.run('identity provider', () => checkProvider(ctx, checkup.need('config', target)));
  const session = await checkup.run('session', async () => {
    const checked = checkup.need('config', target);
    checkup.need('keychain');
    return checkSession(ctx, checked);
  });
  // Where hub-auth is, only the registry's answer says: it is asked once, for both checks.
  const reached = session && {session, answer: await askRegistry(checkup.need('config', target).registry)};
  const grant = await checkup.run('hub-auth', async () => {
    const {session: current, answer} = checkup.need('session', reached);
    return checkHubAuth(checkup.need('config', target), current, answer);
  });
  await checkup.run('registry', async () => {
    if (reached?.answer instanceof CheckFailed) throw reached.answer;
    return checkRegistry(checkup.need('hub-auth', grant));
  });
  await checkup.run('Docker engine', () => checkEngine(ctx.env));
  await checkup.run('docker credential helper', () =>
    checkCredentialHelper(ctx.env, checkup.need('config', target).registry.host, session !== undefined),
  );
  await checkup.run('podman credential helper', () =>
    checkContainersHelper(ctx.env, checkup.need('config', target).registry.host, session !== undefined),
  );
  const failed = checkup.results.filter((result) => !result.ok).length;
  ctx.say(failed === 0 ? `All ${checkup.results.length} checks passed.` : `${failed} of ${checkup.results.length} checks failed.`);
  return checkup.results;
}

/** Which registry (the one named, HUB_REGISTRY, or the only one), and that login left settings for it. */
async function checkConfig(ctx: Context, named: string | undefined): Promise<Passed<Target>> {
  const registry = chooseRegistry(named, await readSettings(ctx.paths.settings), ctx.env);
  const {host, settings} = registry;
  if (!settings) {
    throw new CheckFailed(
      `hub has no settings for ${host} in ${ctx.paths.settings}`,
      `Run \`hub login ${host}\` (add --issuer and --client-id if the registry is not behind hub-auth).`,
    );
  }
  return {detail: `${host} signs in at ${settings.issuer} as client ${settings.clientId}`, value: {registry, settings}};
}

async function checkKeychain(ctx: Context, {registry, settings}: Target): Promise<Passed<never>> {
  const store = ctx.store(settings.storage);
  await store.probe(registry.host);
  return {detail: store.description};
}

async function checkProvider(ctx: Context, {settings}: Target): Promise<Passed<never>> {
  await ctx.discover(settings);
  return {detail: `${settings.issuer} answers OpenID Connect discovery`};
}

/** A token good for another minute, refreshed at the provider when needed: a revoked session fails here. */
async function checkSession(ctx: Context, {registry}: Target): Promise<Passed<Session>> {
  const session = await freshSession(sessionDeps(ctx, registryAt(registry.host, await withSessionUnderAccount(ctx, registry))));
  const expiry =
    session.expiresAt === undefined ? 'with no expiry given' : `valid until ${new Date(session.expiresAt * 1000).toISOString()}`;
  return {detail: `signed in as ${session.account}, access token ${expiry}`, value: session};
}

async function checkEngine(env: NodeJS.ProcessEnv): Promise<Passed<never>> {
  const {address} = await connectEngine(env);
  return {detail: `${describeEngine(address)} answers`};
}
