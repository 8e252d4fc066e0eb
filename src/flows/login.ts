import {join, resolve} from 'node:path';
import type {Configuration} from 'openid-client';
import {loginWithDevice, supportsDeviceFlow} from '../auth/device-authorization-grant.js';
import {loginWithBrowser} from '../auth/authorization-code-grant.js';
import type {ProviderSettings} from '../auth/oidc.js';
import {jwtClaims} from '../auth/jwt-claims.js';
import {confirmDiscoveredIssuer} from '../auth/issuer-trust.js';
import {identify, sessionFromTokens, type Identity, type Tokens} from '../auth/token-grants.js';
import {chooseRegistry} from '../config/registry-choice.js';
import {readSettings, saveRegistrySettings, type StorageKind} from '../config/settings.js';
import {DEFAULT_SCOPES} from '@hub/protocol/default-scopes';
import type {Context} from '../context.js';
import {addCredentialHelper, dockerConfigDir} from '../docker/config-file.js';
import {ExitCode, HubError} from '@hub/common/errors';
import {findProgram} from '@hub/common/find-program';
import {checkTokenWithRegistry} from '../registry/client.js';
import {discoverHubConfiguration} from '../registry/hub-configuration.js';
import type {HubConfiguration} from '@hub/protocol/hub-configuration';
import {registryAudience} from '@hub/protocol/registry-audience';
import type {Session} from '../store/session.js';

export interface LoginOptions {
  registry?: string;
  issuer?: string;
  clientId?: string;
  scope?: string;
  audience?: string;
  /** Sign in at the issuer the registry names without asking, even when it is not on the registry's domain. */
  yes?: boolean;
  port?: number;
  timeoutSeconds: number;
  insecureStorage: boolean;
  /** docker's config folder for the credHelpers entry, or 'none' to leave docker alone. */
  dockerConfig?: string;
  /** The device flow (RFC 8628) instead of the browser here; chosen anyway when no browser can open. */
  device: boolean;
  /** No browser at all: an access token to store as it is (`--with-token`), or a robot's client secret (`--client-credentials`). */
  credential?: {kind: 'access-token' | 'client-secret'; value: string};
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
  const {provider: asked, discovered, published} = await providerSettings(registry, options, saved);
  let provider = asked;
  if (discovered && options.credential?.kind === 'client-secret') {
    // A robot's secret is a password for the provider: a registry must not choose where it goes.
    throw new HubError(
      `hub sends a client secret only to an identity provider you name, not to the one ${registry} announces (${provider.issuer}).`,
      {
        exit: ExitCode.usage,
        code: 'issuer_required',
        suggestions: [`Pass the issuer with the client credentials: --issuer ${provider.issuer} if that is your provider.`],
      },
    );
  }
  // Named up front: with zero-config login the registry chose the provider, and the person should see which.
  ctx.say(`Signing in to ${registry} at ${provider.issuer}`);
  if (discovered && !options.yes && !options.credential) await confirmDiscoveredIssuer(registry, provider.issuer, ctx.confirm);
  const storage: StorageKind = options.insecureStorage ? 'insecure-file' : 'keychain';
  const store = ctx.store(storage);
  // Before the browser opens: nobody should sign in only to learn the tokens have nowhere to go.
  await store.probe(registry).catch((error: unknown) => {
    throw withInsecureStorageHint(error, ctx.paths.insecureSessions);
  });
  const dockerConfig = options.dockerConfig === 'none' ? undefined : resolve(options.dockerConfig ?? dockerConfigDir(ctx.env));

  let session: Session | undefined;
  const persist = async (made: Session): Promise<string> => {
    session = made;
    if (saved?.account && saved.account !== made.account) {
      ctx.say(`! This login replaces the session of ${saved.account} on ${registry}: you are now signed in as ${made.account}.`);
    }
    await store.write(made);
    await saveRegistrySettings(ctx.paths.settings, registry, {...provider, storage, account: made.account, dockerConfig});
    if (saved && saved.storage !== storage) {
      // A login that moves the tokens leaves no copy behind in the old place.
      await ctx
        .store(saved.storage)
        .remove(registry)
        .catch(() => false);
    }
    return `Signed in to ${registry} as ${made.account}.`;
  };
  if (options.credential?.kind === 'access-token') {
    await persist(await sessionFromPresentedToken(registry, provider, options.credential.value));
  } else if (options.credential?.kind === 'client-secret') {
    await persist(await sessionForClient(ctx, registry, provider, options.credential.value));
  } else {
    // The device endpoint may be only in the provider's RFC 8414 metadata.
    const config = await ctx.discover(provider, undefined, {needs: ['device_authorization_endpoint']});
    provider = withExactIssuer(ctx, provider, config);
    // The session keeps the client its tokens were issued to: renewals and revocation use it.
    const complete = (settings: ProviderSettings, used: Configuration) => async (tokens: Tokens) =>
      persist(
        sessionFromTokens(
          registry,
          settings,
          tokens,
          ctx.nowSeconds(),
          await accountAtRegistry(ctx, registry, settings, tokens.access_token, await identify(used, tokens)),
        ),
      );
    if (chooseDeviceFlow(ctx, options, config)) {
      const clientId = await deviceClientId(registry, options, provider, published);
      const settings = {...provider, clientId};
      const used =
        clientId === provider.clientId ? config : await ctx.discover(settings, undefined, {needs: ['device_authorization_endpoint']});
      await complete(
        settings,
        used,
      )(
        await loginWithDevice({
          provider: used,
          settings,
          signal: options.signal,
          timeoutMs: options.timeoutSeconds * 1000,
          say: ctx.say,
          openBrowser: ctx.browserAvailable ? ctx.openBrowser : undefined,
        }),
      );
    } else {
      await loginWithBrowser({
        provider: config,
        settings: provider,
        port: options.port,
        timeoutMs: options.timeoutSeconds * 1000,
        signal: options.signal,
        openBrowser: ctx.openBrowser,
        say: ctx.say,
        complete: complete(provider, config),
        // HUB_TIMING=1: one line for `npm run bench`, which measures the path from callback to keychain.
        onStored:
          ctx.env.HUB_TIMING === '1' ? (ms) => process.stderr.write(`hub-timing callback_to_stored_ms=${ms.toFixed(1)}\n`) : undefined,
      });
    }
  }

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

/**
 * Flags, then what login saved for this registry, then — for what is still missing — what the
 * registry's hub-auth publishes: `hub login registry.example.com` needs nothing else. The audience
 * never comes from the registry: it is derived from the name the person typed, so that a registry
 * copying another's hub-configuration gets tokens good only for itself. `discovered` says the
 * issuer came from the registry (trust on first use).
 */
async function providerSettings(
  registry: string,
  options: LoginOptions,
  saved: ProviderSettings | undefined,
): Promise<{provider: ProviderSettings; discovered: boolean; published?: HubConfiguration}> {
  const known = {
    issuer: options.issuer ?? saved?.issuer,
    clientId: options.clientId ?? saved?.clientId,
    scopes: options.scope ?? saved?.scopes,
    audience: options.audience ?? saved?.audience ?? registryAudience(registry),
  };
  const endpoints = saved?.endpoints;
  const discovered = known.issuer && known.clientId ? undefined : await discoverHubConfiguration(registry);
  return {
    provider: {
      issuer: known.issuer ?? discovered!.issuer,
      clientId: known.clientId ?? discovered!.client_id,
      scopes: known.scopes ?? discovered?.scopes ?? DEFAULT_SCOPES,
      audience: known.audience,
      ...(endpoints ? {endpoints} : {}),
    },
    discovered: known.issuer === undefined,
    published: discovered,
  };
}

/**
 * The client for the device flow: --client-id, else the one the registry's hub-auth publishes for
 * it (some providers allow one grant type per client), else hub's usual client. The registry is
 * asked only when its provider is the one signed in at, not one named with --issuer.
 */
async function deviceClientId(
  registry: string,
  options: LoginOptions,
  provider: ProviderSettings,
  published: HubConfiguration | undefined,
): Promise<string> {
  if (options.clientId) return options.clientId;
  const configuration =
    published ?? (options.issuer === undefined ? await discoverHubConfiguration(registry).catch(() => undefined) : undefined);
  return configuration?.issuer === provider.issuer && configuration.device_client_id ? configuration.device_client_id : provider.clientId;
}

/**
 * The account is what the registry's hub-auth calls the person, which may differ from the name in
 * the ID token (another claim, other rules): bare image names must point at a namespace they can
 * push to. A registry that cannot be asked leaves the provider's name, said to be unconfirmed; one
 * that refuses the token ends the login before anything is stored. Without an ID token there is
 * no other name: the login needs hub-auth's.
 */
async function accountAtRegistry(
  ctx: Context,
  registry: string,
  provider: ProviderSettings,
  accessToken: string,
  identity: Identity | undefined,
): Promise<Identity> {
  try {
    const {account} = await checkTokenWithRegistry(registry, accessToken);
    return {subject: identity?.subject ?? tokenSubject(accessToken, account), account};
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    if (error.code === 'token_refused') {
      throw new HubError(`The token service of ${registry} does not accept the token the identity provider issued; nothing was stored.`, {
        code: 'token_refused',
        suggestions: [
          `Its hub-auth must accept tokens from ${provider.issuer} for the audience ${provider.audience} (oidc.issuer, oidc.audience); ask its operator, or pass --audience if it expects another.`,
        ],
      });
    }
    if (!identity) {
      throw new HubError(
        `The identity provider returned no ID token, and ${registry} could not be asked who you are (${error.message.replace(/\.$/, '')}); nothing was stored.`,
        {code: error.code, cause: error, suggestions: [`Try again once ${registry} answers.`]},
      );
    }
    ctx.say(
      `! ${registry} could not be asked for your account name (${error.message.replace(/\.$/, '')}); using ${identity.account} from the identity provider.`,
    );
    return identity;
  }
}

/** The `sub` a JWT access token names, read without checking it (hub-auth checked it), else the account. */
function tokenSubject(accessToken: string, account: string): string {
  const sub = jwtClaims(accessToken)?.sub;
  return typeof sub === 'string' && sub ? sub : account;
}

/**
 * `--with-token`: a token is worth storing only if the registry's hub-auth takes it; the name it
 * gives the token's owner is the account.
 */
async function sessionFromPresentedToken(registry: string, provider: ProviderSettings, token: string): Promise<Session> {
  const {account} = await checkTokenWithRegistry(registry, token);
  const claims = jwtClaims(token);
  return {
    registry,
    issuer: provider.issuer,
    clientId: provider.clientId,
    account,
    subject: tokenSubject(token, account),
    accessToken: token,
    expiresAt: typeof claims?.exp === 'number' ? claims.exp : undefined,
  };
}

/**
 * `--client-credentials`: a robot's own token (OAuth client credentials grant). The secret is kept
 * with the session, in the keychain, so that hub can get a new token when this one expires.
 */
async function sessionForClient(ctx: Context, registry: string, provider: ProviderSettings, clientSecret: string): Promise<Session> {
  const {clientCredentialsSession} = await import('../auth/token-grants.js');
  const partial = await clientCredentialsSession(await ctx.discover(provider, clientSecret), provider, clientSecret, ctx.nowSeconds());
  const {account} = await checkTokenWithRegistry(registry, partial.accessToken);
  return {...partial, registry, account, subject: account};
}

/**
 * The issuer as the provider spells it, which discovery accepted for one typed with or without a
 * trailing slash: saved that way, later commands and hub-auth's oidc.issuer compare equal.
 */
function withExactIssuer(ctx: Context, provider: ProviderSettings, config: Configuration): ProviderSettings {
  const {issuer} = config.serverMetadata();
  if (issuer === provider.issuer) return provider;
  ctx.say(`Using the issuer as ${provider.issuer} spells it: ${issuer}`);
  return {...provider, issuer};
}

/** The device flow when asked for, or when no browser can open here and the provider offers it. */
function chooseDeviceFlow(ctx: Context, options: LoginOptions, config: Configuration): boolean {
  const offered = supportsDeviceFlow(config);
  if (options.device && !offered) {
    throw new HubError('The identity provider does not offer the device flow (no device_authorization_endpoint).', {
      exit: 2,
      code: 'device_flow_unsupported',
      suggestions: ['Log in without --device: hub prints a URL to open in any browser that can reach this machine.'],
    });
  }
  if (options.device) return true;
  if (ctx.browserAvailable || !offered) return false;
  ctx.say('No browser can be opened here: signing in with a code on another device instead.');
  return true;
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
