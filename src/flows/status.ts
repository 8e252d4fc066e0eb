import {sessionState, type SessionState} from '../auth/session.js';
import {readSettings, type StorageKind} from '../config/settings.js';
import type {Context} from '../context.js';
import {HubError} from '../errors.js';

export interface RegistryStatus {
  registry: string;
  account?: string;
  issuer: string;
  storage: StorageKind;
  /** Where the tokens are, in words. */
  storageDescription: string;
  expiresAt?: string;
  state: SessionState | 'missing' | 'unreadable';
  usable: boolean;
  problem?: string;
}

/** What hub knows of every registry, read from the stores only: no network. */
export async function status(ctx: Context): Promise<RegistryStatus[]> {
  const settings = await readSettings(ctx.paths.settings);
  const results: RegistryStatus[] = [];
  for (const [registry, saved] of Object.entries(settings.registries)) {
    const store = ctx.store(saved.storage);
    const base = {registry, account: saved.account, issuer: saved.issuer, storage: saved.storage, storageDescription: store.description};
    try {
      const session = await store.read(registry);
      if (!session) {
        results.push({...base, state: 'missing', usable: false, problem: 'no tokens are stored; run `hub login` again'});
        continue;
      }
      const state = sessionState(session, ctx.nowSeconds(), 0);
      results.push({
        ...base,
        account: session.account,
        expiresAt: session.expiresAt === undefined ? undefined : new Date(session.expiresAt * 1000).toISOString(),
        state,
        usable: state !== 'expired',
        problem: state === 'expired' ? 'the access token expired and there is no refresh token' : undefined,
      });
    } catch (error) {
      results.push({...base, state: 'unreadable', usable: false, problem: error instanceof HubError ? error.message : String(error)});
    }
  }
  return results;
}
