import {revokeSession} from '../auth/token-grants.js';
import {describeOAuthError} from '../auth/oidc.js';
import {accountsOf, activeAccount, notLoggedInAs, withoutAccount, type Account} from '../config/accounts.js';
import {readSettings, updateRegistrySettings, type RegistrySettings} from '../config/settings.js';
import type {Context} from '../context.js';
import {dockerConfigFile, removeCredentialHelper, type HelperFile} from '../docker/config-file.js';
import {containersAuthFile} from '../docker/containers-auth-file.js';
import {describeSeconds} from '@hub/common/duration';
import {HubError, notLoggedIn, rootMessage} from '@hub/common/errors';
import {chooseRegistry, registryAt, type Registry} from '../registry/registry.js';
import {sessionDeps} from '../session/credentials.js';
import {recheckWindow} from '../session/identity-token.js';
import {sessionClient} from '../session/refresh.js';
import type {IdentityToken} from '../store/session.js';

export interface LogoutResult {
  registry: string;
  account?: string;
  /** revoked: the provider ended the grant; unsupported: it has no revocation endpoint. */
  revocation: 'revoked' | 'unsupported' | 'failed' | 'no-session';
  /**
   * The sign-in at the registry's token service (hub-auth), whose identity token docker holds:
   * ended (every copy is refused), not-ended (it could not be reached; --force forgot it here
   * anyway), unsupported (the service has no revocation endpoint), or none (no identity token:
   * not hub-auth, or the insecure file store).
   */
  registrySession: 'ended' | 'not-ended' | 'unsupported' | 'none';
  /** The registry's active account once this one is gone, when others stay logged in. */
  active?: string;
}

export interface LogoutOptions {
  registry?: string;
  all: boolean;
  /** Forget the session here even when the registry's token service cannot end it. */
  force?: boolean;
  /** The account to log out of; by default the registry's active one (with --all, every one). */
  account?: string;
}

/**
 * Logs out of each account named: the active one of the registry named, or the one --account
 * names, or with --all every account of every registry. One whose sign-in at the registry's token service cannot be
 * ended keeps its session here (so that `hub logout` can try again, and nothing claims an end that
 * did not happen), unless `force`; the others are logged out all the same, and the command fails
 * naming it.
 */
export async function logout(ctx: Context, options: LogoutOptions): Promise<LogoutResult[]> {
  const settings = await readSettings(ctx.paths.settings);
  const registries = options.all
    ? Object.entries(settings.registries).map(([host, saved]) => registryAt(host, saved))
    : [chooseRegistry(options.registry, settings, ctx.env)];
  if (options.all && registries.length === 0) ctx.say('Not logged in to any registry.');
  const results: LogoutResult[] = [];
  const kept: HubError[] = [];
  for (const registry of registries) {
    if (!registry.settings) {
      throw notLoggedIn(registry.host);
    }
    const accounts = options.all ? activeLast(registry.settings) : [namedAccount(registry.host, registry.settings, options.account)];
    for (const account of accounts) {
      try {
        results.push(await logoutOne(ctx, registry, registry.settings, account, options.force === true));
      } catch (error) {
        if (!(error instanceof HubError && error.code === 'revocation_failed')) throw error;
        kept.push(error);
      }
    }
  }
  if (kept.length === 1) throw kept[0];
  if (kept.length > 1) {
    throw new HubError(kept.map((error) => error.message).join('\n'), {code: 'revocation_failed', suggestions: kept[0]!.suggestions});
  }
  return results;
}

/**
 * First the sign-in at the registry's token service (hub-auth's RFC 7009 endpoint), since copies of
 * its identity token may be anywhere docker put them; then the provider's grant when it can be
 * reached; then everything here. A provider that is down must not keep the user from logging out of
 * this machine: its refresh token is deleted with the session.
 */
async function logoutOne(
  ctx: Context,
  registry: Registry,
  saved: RegistrySettings,
  account: Account,
  force: boolean,
): Promise<LogoutResult> {
  const {host} = registry;
  const store = ctx.store(account.storage);
  const key = account.legacy ? undefined : account.name;
  const session = await store.read(host, key);
  let revocation: LogoutResult['revocation'] = 'no-session';
  let registrySession: LogoutResult['registrySession'] = 'none';
  if (session) {
    // With several accounts, the retry names this one: without --account it would log out the active one.
    const again = `hub logout ${host}${accountsOf(saved).length > 1 ? ` --account ${account.name}` : ''}`;
    if (session.identityToken) registrySession = await endRegistrySession(ctx, registry, session.identityToken, force, again);
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
    await store.remove(host, key);
  }
  const left = await updateRegistrySettings(ctx.paths.settings, host, (current) => current && withoutAccount(current, account.name));
  // The tools' entries serve every account of the registry: they go with the last one.
  if (!left) {
    if (saved.dockerConfig) await disconnectTool(ctx, host, dockerConfigFile(saved.dockerConfig), "docker's");
    if (saved.containersAuth) await disconnectTool(ctx, host, containersAuthFile({REGISTRY_AUTH_FILE: saved.containersAuth}), "podman's");
  }
  const name = session?.account ?? (account.name || undefined);
  const who = name ? ` (${name})` : '';
  const ended = [
    ...(registrySession === 'ended' ? ["the registry ended the sign-in (every copy of docker's identity token is refused)"] : []),
    ...(revocation === 'revoked' ? ['the provider revoked the session'] : []),
  ];
  ctx.say(`✓ Logged out of ${host}${who}${ended.length > 0 ? `; ${ended.join('; ')}` : ''}.`);
  if (revocation === 'unsupported') {
    // Said plainly: the person may believe the session is over, yet its refresh token still works at the provider.
    ctx.say(
      `! ${saved.issuer} offers no token revocation (no revocation_endpoint in its OpenID or OAuth metadata): the session there was not ended, and its refresh token stays valid until it expires. Sign out at the provider to end it.`,
    );
  }
  if (left && left.account !== saved.account) {
    ctx.say(`✓ ${left.account} is now the active account of ${host} (\`hub switch\` chooses another).`);
  }
  return {registry: host, account: name, revocation, registrySession, ...(left ? {active: left.account} : {})};
}

/** Every account of the registry, the active one last: logging out of all of them switches none in between. */
function activeLast(saved: RegistrySettings): Account[] {
  const active = activeAccount(saved);
  return [...accountsOf(saved).filter((account) => account.name !== active?.name), ...(active ? [active] : [])];
}

/** The account --account names, or the registry's active one; a name not logged in there is refused, naming those that are. */
function namedAccount(host: string, saved: RegistrySettings, named: string | undefined): Account {
  const accounts = accountsOf(saved);
  const account = named === undefined ? activeAccount(saved) : accounts.find((candidate) => candidate.name === named);
  if (account) return account;
  throw notLoggedInAs(
    host,
    named ?? '(no account)',
    accounts.map((a) => a.name),
  );
}

/** 'ended', or with `force` 'not-ended' said plainly; without it, the logout of this registry stops here, its session kept. */
async function endRegistrySession(
  ctx: Context,
  registry: Registry,
  identityToken: IdentityToken,
  force: boolean,
  again: string,
): Promise<LogoutResult['registrySession']> {
  try {
    if ((await sessionDeps(ctx, registry).revokeIdentityToken(identityToken.token)) === 'revoked') return 'ended';
    ctx.say(
      `! ${registry.host}'s token service offers no revocation: the sign-in there was not ended, and copies of its identity token (docker's) keep working until they expire.`,
    );
    return 'unsupported';
  } catch (error) {
    const why = error instanceof HubError ? error.message.replace(/\.$/, '') : rootMessage(error);
    const lapse = `copies of its identity token (docker's) keep working until hub-auth's re-check window lapses, at most ${describeWindow(identityToken.token)} after the last re-check`;
    if (force) {
      ctx.say(
        `! The sign-in at ${registry.host}'s token service was not ended (${why}): ${lapse}. It was removed from this machine anyway (--force).`,
      );
      return 'not-ended';
    }
    throw new HubError(
      `Could not end the sign-in at ${registry.host}'s token service: ${why}. Nothing was removed from this machine, so that \`hub logout\` can try again; until then ${lapse}.`,
      {
        code: 'revocation_failed',
        cause: error,
        suggestions: [`Run \`${again}\` again once the registry answers.`, `Or \`${again} --force\` to forget the session here anyway.`],
      },
    );
  }
}

function describeWindow(token: string): string {
  const seconds = recheckWindow(token);
  if (seconds === undefined) return "the identity token's lifetime";
  return describeSeconds(seconds);
}

/** A file hub cannot read is left as it is; the logout itself goes on. */
async function disconnectTool(ctx: Context, host: string, file: HelperFile, whose: string): Promise<void> {
  await removeCredentialHelper(file, host).catch((error: Error) =>
    ctx.say(`! ${whose} credHelpers entry was not removed: ${error.message}`),
  );
}
