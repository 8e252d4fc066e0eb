import {environmentSession} from '../session/environment-token.js';
import {sessionState, type SessionState} from '../session/refresh.js';
import {accountsOf, type Account} from '../config/accounts.js';
import {readSettings, type RegistrySettings, type StorageKind} from '../config/settings.js';
import type {Context} from '../context.js';
import {normalizeRegistryHost} from '../config/registry-host.js';
import {ExitCode, HubError} from '@hub/common/errors';
import type {Session} from '../store/session.js';

/** One account logged in to a registry: `hub status` lists each, the active one marked. */
export interface RegistryStatus {
  registry: string;
  account?: string;
  /** The account docker and hub go as at this registry (`hub switch` changes it); HUB_TOKEN's is. */
  active: boolean;
  issuer: string;
  /** 'environment': HUB_TOKEN, which every command uses instead of the stored sessions. */
  storage: StorageKind | 'environment';
  /** Where the tokens are, in words. */
  storageDescription: string;
  expiresAt?: string;
  state: SessionState | 'missing' | 'unreadable';
  usable: boolean;
  problem?: string;
}

/** What hub knows of every account of every registry, read from the stores only: no network. */
export async function status(ctx: Context, named?: string): Promise<RegistryStatus[]> {
  const fromEnvironment = environmentSession(ctx.env, named);
  if (fromEnvironment) return [environmentStatus(fromEnvironment, ctx.nowSeconds())];
  // `hub status REG`, like `gh auth status -h HOST`: that registry only, written as docker writes it.
  const only = named === undefined ? undefined : normalizeRegistryHost(named);
  const settings = await readSettings(ctx.paths.settings);
  const results: RegistryStatus[] = [];
  for (const [registry, saved] of Object.entries(settings.registries)) {
    if (only !== undefined && registry !== only) continue;
    for (const account of accountsOf(saved)) results.push(await accountStatus(ctx, registry, saved, account));
  }
  return results;
}

async function accountStatus(ctx: Context, registry: string, saved: RegistrySettings, account: Account): Promise<RegistryStatus> {
  const store = ctx.store(account.storage);
  const base = {
    registry,
    account: account.name || undefined,
    active: account.name === (saved.account ?? ''),
    issuer: saved.issuer,
    storage: account.storage,
    storageDescription: store.description,
  };
  try {
    const session = await store.read(registry, account.legacy ? undefined : account.name);
    if (!session) return {...base, state: 'missing', usable: false, problem: 'no tokens are stored; run `hub login` again'};
    const state = sessionState(session, ctx.nowSeconds(), 0);
    return {
      ...base,
      account: session.account,
      expiresAt: session.expiresAt === undefined ? undefined : new Date(session.expiresAt * 1000).toISOString(),
      state,
      usable: state !== 'expired',
      problem: state === 'expired' ? 'the access token expired and there is no refresh token' : undefined,
    };
  } catch (error) {
    return {...base, state: 'unreadable', usable: false, problem: error instanceof HubError ? error.message : String(error)};
  }
}

/**
 * HUB_TOKEN stands in for every stored session (commands for other registries are refused while it
 * is set), so it is the one thing to report. It has no refresh token: once expired it is unusable.
 */
function environmentStatus(session: Session, nowSeconds: number): RegistryStatus {
  const state = sessionState(session, nowSeconds, 0);
  return {
    registry: session.registry,
    account: session.account,
    active: true,
    issuer: session.issuer,
    storage: 'environment',
    // The README's word for it, as `--json` says (storage: 'environment'), then what it means.
    storageDescription: 'environment (HUB_TOKEN; hub login sessions are not used while it is set)',
    expiresAt: session.expiresAt === undefined ? undefined : new Date(session.expiresAt * 1000).toISOString(),
    state,
    usable: state !== 'expired',
    problem: state === 'expired' ? 'HUB_TOKEN expired; set a new one' : undefined,
  };
}

/** What `hub status` prints for a person: one block per account, the active one marked where a registry has several. */
export function describeStatus(registries: RegistryStatus[], named?: string): string[] {
  if (registries.length === 0) {
    return [
      named === undefined
        ? 'Not logged in to any registry. Run `hub login REGISTRY`.'
        : `Not logged in to ${named}. Run \`hub login ${named}\`.`,
    ];
  }
  const several = (registry: string) => registries.filter((r) => r.registry === registry).length > 1;
  return registries.flatMap((r) => [
    `${r.usable ? '✓' : '✗'} ${r.registry}`,
    `    account:  ${r.account ?? '(unknown)'}${several(r.registry) && r.active ? ' (active)' : ''}`,
    `    issuer:   ${r.issuer || '(not named in the token)'}`,
    `    token:    ${r.problem ?? describeExpiry(r)}`,
    `    storage:  ${r.storageDescription}`,
  ]);
}

/** `hub status` fails (exit 1) when there is no session or one cannot be used, so scripts can test it. */
export function statusExitCode(registries: RegistryStatus[]): number {
  return registries.length === 0 || registries.some((r) => !r.usable) ? ExitCode.unusableSession : 0;
}

function describeExpiry(r: RegistryStatus): string {
  if (!r.expiresAt) return 'valid (no expiry given)';
  // The state was told by the context's clock, with no minute of grace: only a valid token has not expired yet.
  const verb = r.state === 'valid' ? 'expires' : 'expired';
  return r.state === 'refreshable' ? `${verb} ${r.expiresAt}, refreshed when next used` : `${verb} ${r.expiresAt}`;
}
