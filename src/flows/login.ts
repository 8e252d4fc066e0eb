import {loginWithBrowser} from '../auth/login-flow.js';
import type {ProviderSettings} from '../auth/oidc.js';
import {identify, sessionFromTokens} from '../auth/session.js';
import {chooseRegistry} from '../config/registry-choice.js';
import {DEFAULT_SCOPES, readSettings, saveRegistrySettings, type StorageKind} from '../config/settings.js';
import type {Context} from '../context.js';
import {ExitCode, HubError} from '../errors.js';
import type {Session} from '../store/session.js';

export interface LoginOptions {
  registry?: string;
  issuer?: string;
  clientId?: string;
  scope?: string;
  audience?: string;
  port?: number;
  timeoutSeconds: number;
  insecureStorage: boolean;
  signal?: AbortSignal;
}

export interface LoginResult {
  registry: string;
  account: string;
  issuer: string;
  expiresAt?: string;
  storage: StorageKind;
}

export async function login(ctx: Context, options: LoginOptions): Promise<LoginResult> {
  const settings = await readSettings(ctx.paths.settings);
  const registry = chooseRegistry(options.registry, settings, ctx.env);
  const saved = settings.registries[registry];
  const provider = providerSettings(registry, options, saved);
  const storage: StorageKind = options.insecureStorage ? 'insecure-file' : 'keychain';
  const store = ctx.store(storage);
  // Before the browser opens: nobody should sign in only to learn the tokens have nowhere to go.
  await store.probe(registry).catch((error: unknown) => {
    throw withInsecureStorageHint(error, ctx.paths.insecureSessions);
  });
  const config = await ctx.discover(provider);

  let session: Session | undefined;
  await loginWithBrowser({
    provider: config,
    settings: provider,
    port: options.port,
    timeoutMs: options.timeoutSeconds * 1000,
    signal: options.signal,
    openBrowser: ctx.openBrowser,
    say: ctx.say,
    async complete(tokens) {
      session = sessionFromTokens(registry, provider, tokens, ctx.nowSeconds(), await identify(config, tokens));
      await store.write(session);
      await saveRegistrySettings(ctx.paths.settings, registry, {...provider, storage, account: session.account});
      if (saved && saved.storage !== storage) {
        // A login that moves the tokens leaves no copy behind in the old place.
        await ctx.store(saved.storage).remove(registry).catch(() => false);
      }
      return `Signed in to ${registry} as ${session.account}.`;
    },
  });

  const done = session!;
  ctx.say(`✓ Logged in to ${registry} as ${done.account} (tokens in ${store.description}).`);
  return {
    registry,
    account: done.account,
    issuer: done.issuer,
    expiresAt: done.expiresAt === undefined ? undefined : new Date(done.expiresAt * 1000).toISOString(),
    storage,
  };
}

function providerSettings(
  registry: string,
  options: LoginOptions,
  saved: ProviderSettings | undefined,
): ProviderSettings {
  const issuer = options.issuer ?? saved?.issuer;
  const clientId = options.clientId ?? saved?.clientId;
  if (!issuer || !clientId) {
    throw new HubError(`hub does not know the identity provider for ${registry}.`, {
      exit: ExitCode.usage,
      code: 'provider_unknown',
      suggestions: [`Pass --issuer and --client-id (or set HUB_ISSUER and HUB_CLIENT_ID) once; hub remembers them for ${registry}.`],
    });
  }
  return {
    issuer,
    clientId,
    scopes: options.scope ?? saved?.scopes ?? DEFAULT_SCOPES,
    audience: options.audience ?? saved?.audience,
  };
}

function withInsecureStorageHint(error: unknown, file: string): unknown {
  if (!(error instanceof HubError) || error.code !== 'keychain_unavailable') return error;
  return new HubError(`${error.message} hub keeps tokens only in the OS keychain unless told otherwise.`, {
    code: error.code,
    cause: error.cause,
    suggestions: [
      ...error.suggestions,
      `Or run the login with --insecure-storage to keep the tokens unencrypted in ${file} (readable by you only).`,
    ],
  });
}
