import {accountsOf, notLoggedInAs, switchedTo} from '../config/accounts.js';
import {normalizeRegistryHost} from '../config/registry-host.js';
import {readSettings, updateRegistrySettings, type Settings} from '../config/settings.js';
import type {Context} from '../context.js';
import {ExitCode, HubError, notLoggedIn} from '@hub/common/errors';

export interface SwitchOptions {
  /** The registry, or (alone) the account: `hub switch bob` when one registry has several. */
  registry?: string;
  account?: string;
}

export interface SwitchResult {
  registry: string;
  /** The active account now: docker, `hub push`, `hub pull`, `hub token` and `hub images` go as it. */
  account: string;
  previous?: string;
}

/**
 * Makes another account of a registry the active one, as `gh auth switch` does: with one other
 * account, that one; with several, the one named, else asked on the terminal; without a terminal
 * the command names what to pass. The registry is the one named, else the only one with several
 * accounts.
 */
export async function switchAccount(ctx: Context, options: SwitchOptions): Promise<SwitchResult> {
  const settings = await readSettings(ctx.paths.settings);
  const {host, named} = target(settings, options, ctx.env);
  const saved = settings.registries[host];
  if (!saved) throw notLoggedIn(host);
  const names = accountsOf(saved).map((account) => account.name);
  const others = names.filter((name) => name !== saved.account);
  if (named !== undefined && !names.includes(named)) throw notLoggedInAs(host, named, names);
  if (named === undefined && others.length === 0) {
    throw new HubError(`Only ${saved.account} is logged in to ${host}: there is no other account to switch to.`, {
      code: 'not_logged_in',
      suggestions: [`Run \`hub login ${host}\` and sign in as another account to add it.`],
    });
  }
  const chosen = named ?? (others.length === 1 ? others[0] : await ctx.choose(`Which account of ${host} should be active?`, others));
  if (chosen === undefined) {
    throw new HubError(`${host} has several other accounts (${others.join(', ')}): name the one to switch to.`, {
      exit: ExitCode.usage,
      code: 'account_required',
      suggestions: [`Run \`hub switch ${host} ${others[0]}\`.`],
    });
  }
  await updateRegistrySettings(ctx.paths.settings, host, (current) => (current && switchedTo(current, chosen)) ?? current);
  ctx.say(
    chosen === saved.account
      ? `✓ ${chosen} is already the active account of ${host}.`
      : `✓ Switched the active account of ${host} to ${chosen} (docker, hub push and hub pull now go as ${chosen}).`,
  );
  return {registry: host, account: chosen, previous: saved.account};
}

/** The registry and the account named: one word alone is a registry hub knows, else an account. */
function target(settings: Settings, {registry, account}: SwitchOptions, env: NodeJS.ProcessEnv): {host: string; named?: string} {
  if (registry !== undefined && account === undefined && !(normalizeRegistryHost(registry) in settings.registries)) {
    return {host: onlyWithSeveral(settings, env), named: registry};
  }
  return {host: registry === undefined ? onlyWithSeveral(settings, env) : normalizeRegistryHost(registry), named: account};
}

/** HUB_REGISTRY, else the registry with several accounts, else the only registry. */
function onlyWithSeveral(settings: Settings, env: NodeJS.ProcessEnv): string {
  if (env.HUB_REGISTRY) return normalizeRegistryHost(env.HUB_REGISTRY);
  const known = Object.entries(settings.registries);
  const several = known.filter(([, saved]) => accountsOf(saved).length > 1).map(([host]) => host);
  if (several.length === 1) return several[0]!;
  if (several.length === 0 && known.length === 1) return known[0]![0];
  if (known.length === 0)
    throw new HubError('You are not logged in to any registry.', {code: 'not_logged_in', suggestions: ['Run `hub login REGISTRY`.']});
  throw new HubError(
    several.length === 0
      ? `No registry hub knows has more than one account (${known.map(([host]) => host).join(', ')}): there is nothing to switch to.`
      : `No registry given, and several have more than one account: ${several.join(', ')}.`,
    {
      exit: several.length === 0 ? ExitCode.unusableSession : ExitCode.usage,
      code: several.length === 0 ? 'not_logged_in' : 'registry_required',
      suggestions:
        several.length === 0
          ? ['Run `hub login REGISTRY` and sign in as another account to add it.']
          : [`Name the registry: \`hub switch ${several[0]} ACCOUNT\`.`],
    },
  );
}
