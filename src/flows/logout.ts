import {revokeSession} from '../auth/token-grants.js';
import {describeOAuthError} from '../auth/oidc.js';
import {readSettings, removeRegistrySettings, type RegistrySettings} from '../config/settings.js';
import type {Context} from '../context.js';
import {dockerConfigFile, removeCredentialHelper, type HelperFile} from '../docker/config-file.js';
import {containersAuthFile} from '../docker/containers-auth-file.js';
import {notLoggedIn} from '@hub/common/errors';
import {chooseRegistry, registryAt, type Registry} from '../registry/registry.js';
import {sessionClient} from '../session/refresh.js';

export interface LogoutResult {
  registry: string;
  account?: string;
  /** revoked: the provider ended the grant; unsupported: it has no revocation endpoint. */
  revocation: 'revoked' | 'unsupported' | 'failed' | 'no-session';
}

export async function logout(ctx: Context, options: {registry?: string; all: boolean}): Promise<LogoutResult[]> {
  const settings = await readSettings(ctx.paths.settings);
  const registries = options.all
    ? Object.entries(settings.registries).map(([host, saved]) => registryAt(host, saved))
    : [chooseRegistry(options.registry, settings, ctx.env)];
  if (options.all && registries.length === 0) ctx.say('Not logged in to any registry.');
  const results: LogoutResult[] = [];
  for (const registry of registries) {
    if (!registry.settings) {
      throw notLoggedIn(registry.host);
    }
    results.push(await logoutOne(ctx, registry, registry.settings));
  }
  return results;
}

/**
 * Revoke at the provider when it can be reached, then forget locally in any case: a provider
 * that is down must not keep the user from logging out of this machine.
 */
async function logoutOne(ctx: Context, {host}: Registry, saved: RegistrySettings): Promise<LogoutResult> {
  const store = ctx.store(saved.storage);
  const session = await store.read(host);
  let revocation: LogoutResult['revocation'] = 'no-session';
  if (session) {
    try {
      revocation = (await revokeSession(
        await ctx.discover(sessionClient(saved, session), undefined, {needs: ['revocation_endpoint']}),
        session,
      ))
        ? 'revoked'
        : 'unsupported';
    } catch (error) {
      revocation = 'failed';
      ctx.say(`! Could not revoke the session at ${saved.issuer} (${describeOAuthError(error)}); it was removed from this machine anyway.`);
    }
    await store.remove(host);
  }
  if (saved.dockerConfig) await disconnectTool(ctx, host, dockerConfigFile(saved.dockerConfig), "docker's");
  if (saved.containersAuth) await disconnectTool(ctx, host, containersAuthFile({REGISTRY_AUTH_FILE: saved.containersAuth}), "podman's");
  await removeRegistrySettings(ctx.paths.settings, host);
  const who = session ? ` (${session.account})` : '';
  ctx.say(`✓ Logged out of ${host}${who}${revocation === 'revoked' ? '; the provider revoked the session' : ''}.`);
  if (revocation === 'unsupported') {
    // Said plainly: the person may believe the session is over, yet its refresh token still works at the provider.
    ctx.say(
      `! ${saved.issuer} offers no token revocation (no revocation_endpoint in its OpenID or OAuth metadata): the session there was not ended, and its refresh token stays valid until it expires. Sign out at the provider to end it.`,
    );
  }
  return {registry: host, account: session?.account, revocation};
}

/** A file hub cannot read is left as it is; the logout itself goes on. */
async function disconnectTool(ctx: Context, host: string, file: HelperFile, whose: string): Promise<void> {
  await removeCredentialHelper(file, host).catch((error: Error) =>
    ctx.say(`! ${whose} credHelpers entry was not removed: ${error.message}`),
  );
}
