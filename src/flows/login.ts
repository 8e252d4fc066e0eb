import {join, resolve} from 'node:path';
import {loginWithBrowser} from '../auth/login-flow.js';
import type {ProviderSettings} from '../auth/oidc.js';
import {identify, sessionFromTokens} from '../auth/token-grants.js';
import {chooseRegistry} from '../config/registry-choice.js';
import {DEFAULT_SCOPES, readSettings, saveRegistrySettings, type StorageKind} from '../config/settings.js';
import type {Context} from '../context.js';
import {addCredentialHelper, dockerConfigDir} from '../docker/config-file.js';
import {ExitCode, HubError} from '../errors.js';
import {findProgram} from '../files/find-program.js';
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
  /** docker's config folder for the credHelpers entry, or 'none' to leave docker alone. */
  dockerConfig?: string;
  signal?: AbortSignal;
}

export interface LoginResult {
  registry: string;
  account: string;
  issuer: string;
  expiresAt?: string;
  storage: StorageKind;
  /** The docker config.json that now sends docker to hub for this registry. */
  dockerConfig?: string;
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
  const dockerConfig = options.dockerConfig === 'none' ? undefined : resolve(options.dockerConfig ?? dockerConfigDir(ctx.env));

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
      await saveRegistrySettings(ctx.paths.settings, registry, {...provider, storage, account: session.account, dockerConfig});
      if (saved && saved.storage !== storage) {
        // A login that moves the tokens leaves no copy behind in the old place.
        await ctx.store(saved.storage).remove(registry).catch(() => false);
      }
      return `Signed in to ${registry} as ${session.account}.`;
    },
  });

  const done = session!;
  ctx.say(`✓ Logged in to ${registry} as ${done.account} (tokens in ${store.description}).`);
  if (dockerConfig) await connectDocker(ctx, registry, dockerConfig);
  return {
    dockerConfig: dockerConfig && join(dockerConfig, 'config.json'),
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

/**
 * Sends plain `docker` to hub for this registry. The session is already stored when this runs, so
 * a config.json hub cannot read fails the command without losing the login.
 */
async function connectDocker(ctx: Context, registry: string, dockerConfig: string): Promise<void> {
  try {
    await addCredentialHelper(dockerConfig, registry);
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    throw new HubError(`You are logged in, but docker was not set up: ${error.message}`, {
      code: error.code,
      suggestions: [...error.suggestions, `Then run \`hub login ${registry}\` again, or pass --docker-config=none to leave docker alone.`],
    });
  }
  if (findProgram('docker-credential-hub', ctx.env)) {
    ctx.say(`✓ docker uses hub for ${registry} (credHelpers in ${join(dockerConfig, 'config.json')}).`);
  } else {
    ctx.say(
      '! docker-credential-hub is not on your PATH, so plain docker cannot use this login yet: install hub with `npm install -g` (or run `npm link` in a checkout of hub).',
    );
  }
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
