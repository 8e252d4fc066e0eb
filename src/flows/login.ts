import {join, resolve} from 'node:path';
import type {Configuration} from 'openid-client';
import {loginWithDevice, supportsDeviceFlow} from '../auth/device-authorization-grant.js';
import {startBrowserSignIn} from '../auth/authorization-code-grant.js';
import type {SignInSettings} from '../auth/oidc.js';
import {jwtClaims} from '../auth/jwt-claims.js';
import {confirmDiscoveredIssuer} from '../auth/issuer-trust.js';
import {whoSignedIn, robotTokens, type SignedInUser, type Tokens} from '../auth/token-grants.js';
import {accountsOf, withAccount} from '../config/accounts.js';
import {readSettings, updateRegistrySettings, type StorageKind} from '../config/settings.js';
import {assertWritableFolder} from '../config/writable-folder.js';
import {DEFAULT_SCOPES} from '@hub/protocol/default-scopes';
import type {Context} from '../context.js';
import {addCredentialHelper, dockerConfigDir, dockerConfigFile, type HelperFile} from '../docker/config-file.js';
import {containersAuthFile, containersToolsPresent} from '../docker/containers-auth-file.js';
import {ExitCode, HubError} from '@hub/common/errors';
import {findProgram} from '@hub/common/find-program';
import {checkTokenWithRegistry} from '../registry/client.js';
import {discoverHubConfiguration} from '../registry/hub-configuration.js';
import type {HubConfiguration} from '@hub/protocol/hub-configuration';
import {chooseRegistry, type Registry} from '../registry/registry.js';
import {withSessionUnderAccount} from '../session/accounts.js';
import {buildSession, grantFromTokens, presentedGrant} from '../session/build.js';
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
  /** The containers auth file (podman, buildah) for the credHelpers entry, or 'none'; by default written only where those tools are. */
  containersAuth?: string;
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
  /** The containers auth file that now sends podman and buildah to hub for this registry. */
  containersAuth?: string;
}

export async function login(ctx: Context, options: LoginOptions): Promise<LoginResult> {
  const registry = chooseRegistry(options.registry, await readSettings(ctx.paths.settings), ctx.env);
  const {settings, discovered, published} = await signInSettings(registry, options);
  if (discovered && options.credential?.kind === 'client-secret') {
    // A robot's secret is a password for the provider: a registry must not choose where it goes.
    throw new HubError(
      `hub sends a client secret only to an identity provider you name, not to the one ${registry.host} announces (${settings.issuer}).`,
      {
        exit: ExitCode.usage,
        code: 'issuer_required',
        suggestions: [`Pass the issuer with the client credentials: --issuer ${settings.issuer} if that is your provider.`],
      },
    );
  }
  // Named up front: with zero-config login the registry chose the provider, and the person should see which.
  ctx.say(`Signing in to ${registry.host} at ${settings.issuer}`);
  if (discovered && !options.yes && !options.credential) await confirmDiscoveredIssuer(registry.host, settings.issuer, ctx.confirm);
  const storage: StorageKind = options.insecureStorage ? 'insecure-file' : 'keychain';
  const store = ctx.store(storage);
  // Before the browser opens: nobody should sign in only to learn the tokens have nowhere to go.
  await store.probe(registry.host).catch((error: unknown) => {
    throw withInsecureStorageHint(error, ctx.paths.insecureSessions);
  });
  // The settings (and with --insecure-storage the tokens) go there once the sign-in is over.
  assertWritableFolder(
    ctx.paths.dir,
    storage === 'insecure-file' ? 'its settings and tokens' : 'its settings',
    'HUB_CONFIG_DIR (or XDG_CONFIG_HOME)',
  );
  const dockerConfig = options.dockerConfig === 'none' ? undefined : resolve(options.dockerConfig ?? dockerConfigDir(ctx.env));
  const containersAuth = containersAuthFor(ctx.env, options.containersAuth);
  const keep: Keep = (session, signedInAt) =>
    keepSession(ctx, {registry, signedInAt, storage, dockerConfig, containersAuth: containersAuth?.path}, session);

  const session =
    options.credential?.kind === 'access-token'
      ? await keep(await sessionFromPresentedToken(registry, settings, options.credential.value), settings)
      : options.credential?.kind === 'client-secret'
        ? await keep(await sessionForRobot(ctx, registry, settings, options.credential.value), settings)
        : await signIn(ctx, registry, settings, options, published, keep);

  ctx.say(
    `✓ Logged in to ${registry.host} as ${session.account} (${stillLoggedIn(registry, session.account)}tokens in ${store.description}).`,
  );
  if (dockerConfig) await connectTool(ctx, registry.host, dockerConfigFile(dockerConfig), 'docker', '--docker-config=none');
  if (containersAuth) await connectTool(ctx, registry.host, containersAuth, 'podman and buildah', '--containers-auth=none');
  if ((dockerConfig || containersAuth) && !findProgram('docker-credential-hub', ctx.env)) {
    ctx.say(
      '! docker-credential-hub is not on your PATH, so plain docker cannot use this login yet: install hub with `npm install -g` (or run `npm link` in a checkout of hub).',
    );
  }
  return {
    dockerConfig: dockerConfig && join(dockerConfig, 'config.json'),
    containersAuth: containersAuth?.path,
    registry: registry.host,
    account: session.account,
    issuer: session.issuer,
    expiresAt: session.expiresAt === undefined ? undefined : new Date(session.expiresAt * 1000).toISOString(),
    storage,
  };
}

/** Who else stays logged in to the registry after a login as `account`, for the line that says it went well. */
function stillLoggedIn(registry: Registry, account: string): string {
  const others = registry.settings ? accountsOf(registry.settings).filter((other) => other.name && other.name !== account) : [];
  if (others.length === 0) return '';
  const names = others.map((other) => other.name).join(', ');
  return `${names} ${others.length === 1 ? 'is' : 'are'} still logged in; \`hub switch\` goes back; `;
}

/** Stores a new session and the settings it was signed in with; hands the session back. */
type Keep = (session: Session, signedInAt: SignInSettings) => Promise<Session>;

/**
 * The session goes to the chosen store and the registry's settings remember where, with the
 * provider it was signed in at; its account becomes the active one. A login as an account already
 * here replaces that account's session only, and one that moves its tokens leaves no copy behind
 * in the old place; a login as another account adds it, the others staying logged in.
 */
async function keepSession(
  ctx: Context,
  login: {registry: Registry; signedInAt: SignInSettings; storage: StorageKind; dockerConfig?: string; containersAuth?: string},
  session: Session,
): Promise<Session> {
  const {registry, signedInAt, storage, dockerConfig, containersAuth} = login;
  const saved = await withSessionUnderAccount(ctx, registry);
  const before = saved && accountsOf(saved).find((account) => account.name === session.account);
  await ctx.store(storage).write(session);
  await updateRegistrySettings(ctx.paths.settings, registry.host, (current) => {
    const shared = current !== undefined && accountsOf(current).some((account) => account.name !== session.account);
    const settings = {
      ...signedInAt,
      storage,
      // Without a session to move (withSessionUnderAccount), settings of hub before several accounts name nobody logged in.
      account: current?.account,
      accounts: current?.accounts ?? {},
      // With others logged in, the tools' entries serve them too, even when this login passed 'none'.
      dockerConfig: dockerConfig ?? (shared ? current.dockerConfig : undefined),
      containersAuth: containersAuth ?? (shared ? current.containersAuth : undefined),
    };
    return withAccount(settings, session.account, storage);
  });
  if (before && before.storage !== storage) {
    await ctx
      .store(before.storage)
      .remove(registry.host, session.account)
      .catch(() => false);
  }
  return session;
}

/**
 * A person signs in: in the browser here, through the one-time loopback server, or with a code on
 * another device. The session is stored before the browser is answered, so that its page tells
 * the truth about the outcome.
 */
async function signIn(
  ctx: Context,
  registry: Registry,
  asked: SignInSettings,
  options: LoginOptions,
  published: HubConfiguration | undefined,
  keep: Keep,
): Promise<Session> {
  // The device endpoint may be only in the provider's RFC 8414 metadata.
  const oidcConfig = await ctx.discover(asked, undefined, {needs: ['device_authorization_endpoint']});
  const settings = withExactIssuer(ctx, asked, oidcConfig);
  const timeoutMs = options.timeoutSeconds * 1000;

  if (chooseDeviceFlow(ctx, options, oidcConfig)) {
    const clientId = await deviceClientId(registry, options, settings, published);
    // The session keeps the client its tokens were issued to: renewals and revocation use it.
    const deviceSettings = {...settings, clientId};
    const used =
      clientId === settings.clientId
        ? oidcConfig
        : await ctx.discover(deviceSettings, undefined, {needs: ['device_authorization_endpoint']});
    const tokens = await loginWithDevice({
      oidcConfig: used,
      settings: deviceSettings,
      signal: options.signal,
      timeoutMs,
      say: ctx.say,
      openBrowser: ctx.browserAvailable ? ctx.openBrowser : undefined,
    });
    return keep(await sessionFromTokens(ctx, registry, deviceSettings, used, tokens), settings);
  }

  const browser = await startBrowserSignIn({
    oidcConfig,
    settings,
    port: options.port,
    timeoutMs,
    signal: options.signal,
    say: ctx.say,
  });
  try {
    const opened = await ctx.openBrowser(browser.link);
    ctx.say(
      opened
        ? `Opened your browser to sign in. If it did not open, visit (once):\n  ${browser.link}`
        : `Could not open a browser here. Open this link in a browser on this machine to sign in (it works once):\n  ${browser.link}`,
    );
    ctx.say('Waiting for the sign-in to finish… (Ctrl-C to cancel)');
    const callback = await browser.callback;
    const callbackAt = performance.now();
    const session = await keep(await sessionFromTokens(ctx, registry, settings, oidcConfig, await browser.exchange(callback)), settings);
    // HUB_TIMING=1: one line for `npm run bench`, which measures the path from callback to keychain.
    if (ctx.env.HUB_TIMING === '1')
      process.stderr.write(`hub-timing callback_to_stored_ms=${(performance.now() - callbackAt).toFixed(1)}\n`);
    await browser.finish({ok: true, message: `Signed in to ${registry.host} as ${session.account}.`});
    return session;
  } catch (error) {
    await browser.finish({ok: false, message: error instanceof Error ? error.message : 'The sign-in failed.'});
    throw error;
  }
}

/** The session a person's sign-in makes, named as the registry's hub-auth names them. */
async function sessionFromTokens(
  ctx: Context,
  registry: Registry,
  settings: SignInSettings,
  used: Configuration,
  tokens: Tokens,
): Promise<Session> {
  const user = await accountAtRegistry(ctx, registry, settings, tokens.access_token, await whoSignedIn(used, tokens));
  return buildSession(registry.host, settings, user, grantFromTokens(tokens, ctx.nowSeconds()));
}

/**
 * Flags, then what login saved for this registry, then — for what is still missing — what the
 * registry's hub-auth publishes: `hub login registry.example.com` needs nothing else. The audience
 * never comes from the registry: it is derived from the name the person typed, so that a registry
 * copying another's hub-configuration gets tokens good only for itself. `discovered` says the
 * issuer came from the registry (trust on first use).
 */
async function signInSettings(
  registry: Registry,
  options: LoginOptions,
): Promise<{settings: SignInSettings; discovered: boolean; published?: HubConfiguration}> {
  const saved = registry.settings;
  const known = {
    issuer: options.issuer ?? saved?.issuer,
    clientId: options.clientId ?? saved?.clientId,
    scopes: options.scope ?? saved?.scopes,
    audience: options.audience ?? saved?.audience ?? registry.audience,
  };
  const endpoints = saved?.endpoints;
  const discovered = known.issuer && known.clientId ? undefined : await discoverHubConfiguration(registry);
  return {
    settings: {
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
  registry: Registry,
  options: LoginOptions,
  settings: SignInSettings,
  published: HubConfiguration | undefined,
): Promise<string> {
  if (options.clientId) return options.clientId;
  const configuration =
    published ?? (options.issuer === undefined ? await discoverHubConfiguration(registry).catch(() => undefined) : undefined);
  return configuration?.issuer === settings.issuer && configuration.device_client_id ? configuration.device_client_id : settings.clientId;
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
  registry: Registry,
  settings: SignInSettings,
  accessToken: string,
  user: SignedInUser | undefined,
): Promise<SignedInUser> {
  try {
    const {account} = await checkTokenWithRegistry(registry, accessToken);
    return {subject: user?.subject ?? tokenSubject(accessToken, account), account};
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    if (error.code === 'token_refused') {
      throw new HubError(
        `The token service of ${registry.host} does not accept the token the identity provider issued; nothing was stored.`,
        {
          code: 'token_refused',
          suggestions: [
            `Its hub-auth must accept tokens from ${settings.issuer} for the audience ${settings.audience} (oidc.issuer, oidc.audience); ask its operator, or pass --audience if it expects another.`,
          ],
        },
      );
    }
    if (!user) {
      throw new HubError(
        `The identity provider returned no ID token, and ${registry.host} could not be asked who you are (${error.message.replace(/\.$/, '')}); nothing was stored.`,
        {code: error.code, cause: error, suggestions: [`Try again once ${registry.host} answers.`]},
      );
    }
    ctx.say(
      `! ${registry.host} could not be asked for your account name (${error.message.replace(/\.$/, '')}); using ${user.account} from the identity provider.`,
    );
    return user;
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
async function sessionFromPresentedToken(registry: Registry, settings: SignInSettings, token: string): Promise<Session> {
  const {account} = await checkTokenWithRegistry(registry, token);
  return buildSession(registry.host, settings, {account, subject: tokenSubject(token, account)}, presentedGrant(token));
}

/**
 * `--client-credentials`: a robot's own token (OAuth client credentials grant). The secret is kept
 * with the session, in the keychain, so that hub can get a new token when this one expires: a
 * robot renews with it, never with a refresh token.
 */
async function sessionForRobot(ctx: Context, registry: Registry, settings: SignInSettings, clientSecret: string): Promise<Session> {
  const tokens = await robotTokens(await ctx.discover(settings, clientSecret), settings);
  const {account} = await checkTokenWithRegistry(registry, tokens.access_token);
  const grant = {...grantFromTokens(tokens, ctx.nowSeconds()), refreshToken: undefined, clientSecret};
  return buildSession(registry.host, settings, {account, subject: account}, grant);
}

/**
 * The issuer as the provider spells it, which discovery accepted for one typed with or without a
 * trailing slash: saved that way, later commands and hub-auth's oidc.issuer compare equal.
 */
function withExactIssuer(ctx: Context, settings: SignInSettings, oidcConfig: Configuration): SignInSettings {
  const {issuer} = oidcConfig.serverMetadata();
  if (issuer === settings.issuer) return settings;
  ctx.say(`Using the issuer as ${settings.issuer} spells it: ${issuer}`);
  return {...settings, issuer};
}

/** The device flow when asked for, or when no browser can open here and the provider offers it. */
function chooseDeviceFlow(ctx: Context, options: LoginOptions, oidcConfig: Configuration): boolean {
  const offered = supportsDeviceFlow(oidcConfig);
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
 * The containers auth file to write: the one named, none, or by default the one podman and buildah
 * read, when either is installed or the file is there already.
 */
function containersAuthFor(env: NodeJS.ProcessEnv, option: string | undefined): HelperFile | undefined {
  if (option === 'none') return undefined;
  const file = containersAuthFile(option ? {REGISTRY_AUTH_FILE: resolve(option)} : env);
  return option || containersToolsPresent(file, env) ? file : undefined;
}

/**
 * Sends plain `docker` (or podman and buildah) to hub for this registry. The session is already
 * stored when this runs, so a file hub cannot read fails the command without losing the login.
 */
async function connectTool(ctx: Context, registry: string, file: HelperFile, tools: string, leaveAlone: string): Promise<void> {
  const plural = tools.includes(' and ');
  try {
    await addCredentialHelper(file, registry);
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    throw new HubError(`You are logged in, but ${tools} ${plural ? 'were' : 'was'} not set up: ${error.message}`, {
      code: error.code,
      suggestions: [...error.suggestions, `Then run \`hub login ${registry}\` again, or pass ${leaveAlone} to leave ${tools} alone.`],
    });
  }
  ctx.say(`✓ ${tools} ${plural ? 'use' : 'uses'} hub for ${registry} (credHelpers in ${file.path}).`);
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
