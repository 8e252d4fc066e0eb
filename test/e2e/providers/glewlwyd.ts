import {execFile} from 'node:child_process';
import {cp, mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';
import type {Page} from 'playwright-core';
import {registryAudience} from '@hub/protocol/registry-audience';
import {freePort, waitFor} from '@hub/test-stack/ports';
import {startDaemon} from '@hub/test-stack/process';
import OIDC_DEFAULTS from './glewlwyd-oidc-defaults.json' with {type: 'json'};
import type {ProviderUnderTest, ProviderUser, StartProvider} from './provider.js';

const run = promisify(execFile);

/**
 * Debian's glewlwyd (2.7), set up as its documentation says (docs/INSTALL.md, docs/OIDC.md,
 * docs/API.md of the package): Debian's /etc/glewlwyd/glewlwyd.conf with this instance's port,
 * URL and SQLite file; the database made by the package's own SQL script; then, through the
 * admin API as the admin app does, an OpenID Connect plugin instance starting from the admin
 * app's defaults (glewlwyd-oidc-defaults.json: webapp-src/src/Admin/GlwdOIDCParams.js at v2.7.5),
 * a scope for the registry, two users and hub's public clients.
 *
 * What the operator changes from those defaults, and why (each a documented option):
 * - PKCE allowed, and required of public clients such as hub (docs/OIDC.md "PKCE - Code challenge").
 * - Subject type `public`: one person, one `sub` for every client; pairwise would give hub's
 *   browser and device clients two subjects for alice, and hub-auth binds a name to one.
 * - Device flow enabled, with its own client: glewlwyd's clients list their authorization types.
 * - Refresh tokens used once (`always`): rotation, the OAuth practice for public clients.
 * - Introspection and revocation endpoints enabled.
 * - Resource indicators (RFC 8707): the `hub` scope may name the registry, whose URL becomes
 *   the access token's `aud`; without them `aud` is the scope list.
 * - The username as `preferred_username` in access tokens ("Additional token values"): hub-auth
 *   reads the account from the access token; glewlwyd's access tokens carry no name otherwise.
 * - Plain OAuth 2.0 requests allowed (`allow-non-oidc`): a login that asks for `hub` alone gets
 *   no ID token (the device-flow check does so); hub-auth names the account.
 *
 * hub asks for `openid hub` (hub-auth publishes it). Without `openid`, glewlwyd 2.7.5 answers the
 * code grant with `"id_token": null`, which openid-client refuses as malformed; its device grant
 * has no ID token at all.
 *
 * glewlwyd matches redirect URIs exactly (no RFC 8252 any-port rule), so hub's client is
 * registered with one loopback port and hub logs in with `--port`.
 */
const ADMIN = {username: 'admin', password: 'password'}; // what the package's init script creates (docs/INSTALL.md)
const USERS = {alice: {username: 'alice', password: 'alice-password-1'}, bob: {username: 'bob', password: 'bob-password-1'}};
const CLIENT_ID = 'hub-cli';
const DEVICE_CLIENT_ID = 'hub-device';
const SCOPE = 'hub';
const INIT_SQL = '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3';
const DEBIAN_CONFIG = '/etc/glewlwyd/glewlwyd.conf';
const WEBAPP = '/usr/share/glewlwyd/webapp';
/** Debian ships the front end's config.json as a conffile in this folder; the webapp's own link points at the folder. */
const WEBAPP_CONFIG = '/etc/glewlwyd/config-2.7.json/config.json';

export const startGlewlwyd: StartProvider = async ({dir, registryHost}) => {
  await mkdir(dir, {recursive: true});
  const port = await freePort();
  const redirectPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const issuer = `${url}/api/oidc`;
  const database = join(dir, 'glewlwyd.db');
  await run('sh', ['-c', `sqlite3 "$1" < "$2"`, 'sh', database, INIT_SQL]);
  // The front end served by glewlwyd itself (static_files_path), with its config.json next to it.
  const webapp = join(dir, 'webapp');
  await cp(WEBAPP, webapp, {recursive: true, dereference: true, filter: (source) => source !== join(WEBAPP, 'config.json')});
  await cp(WEBAPP_CONFIG, join(webapp, 'config.json'));
  const config = join(dir, 'glewlwyd.conf');
  await writeFile(config, await instanceConfig({port, url, database, webapp}));
  await run('openssl', ['genrsa', '-out', join(dir, 'key.pem'), '2048']);
  await run('openssl', ['rsa', '-in', join(dir, 'key.pem'), '-pubout', '-out', join(dir, 'cert.pem')]);

  const daemon = startDaemon('glewlwyd', ['--config-file', config], {logFile: join(dir, 'glewlwyd.log')});
  try {
    await waitFor('glewlwyd', async () => (await fetch(`${url}/config`)).ok);
    const admin = await adminSession(url);
    const plugin = {
      module: 'oidc',
      name: 'oidc',
      display_name: 'OpenID Connect',
      enabled: true,
      parameters: {
        ...OIDC_DEFAULTS,
        iss: issuer,
        key: await readFile(join(dir, 'key.pem'), 'utf8'),
        cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
        'secret-type': 'public',
        'pkce-allowed': true,
        'pkce-required-public-client': true,
        'auth-type-device-enabled': true,
        'device-authorization-interval': 1,
        'refresh-token-one-use': 'always',
        'introspection-revocation-allowed': true,
        'allow-non-oidc': true,
        'allowed-scope': ['openid', SCOPE],
        'resource-allowed': true,
        'resource-scope': {[SCOPE]: [registryAudience(registryHost)]},
        'additional-parameters': [{'user-parameter': 'username', 'token-parameter': 'preferred_username'}],
      },
    };
    await admin('POST', '/scope/', {
      name: SCOPE,
      display_name: 'hub registry',
      description: 'Push and pull images',
      password_required: true,
      password_max_age: 0,
      scheme: {},
    });
    await admin('POST', '/mod/plugin/', plugin);
    for (const user of Object.values(USERS)) {
      await admin('POST', '/user/', {
        username: user.username,
        password: user.password,
        name: user.username,
        email: `${user.username}@example.test`,
        scope: ['openid', SCOPE],
        enabled: true,
      });
    }
    await admin('POST', '/client/', {
      client_id: CLIENT_ID,
      name: 'hub',
      confidential: false,
      enabled: true,
      redirect_uri: [`http://127.0.0.1:${redirectPort}/callback`],
      authorization_type: ['code', 'refresh_token'],
      scope: [],
    });
    await admin('POST', '/client/', {
      client_id: DEVICE_CLIENT_ID,
      name: 'hub (device)',
      confidential: false,
      enabled: true,
      redirect_uri: [],
      authorization_type: ['device_authorization', 'refresh_token'],
      scope: [],
    });
    await waitFor('glewlwyd OIDC plugin', async () => (await fetch(`${issuer}/.well-known/openid-configuration`)).ok);

    return {
      name: 'glewlwyd',
      issuer,
      clientId: CLIENT_ID,
      redirectPort,
      scopes: `openid ${SCOPE}`,
      oauthOnlyScopes: SCOPE,
      deviceClientId: DEVICE_CLIENT_ID,
      users: USERS,
      accessTokens: 'jwt',
      // Its revocation endpoint takes a confidential client, or an access token with a configured scope: not hub's public client as such.
      revokesPublicClientTokens: false,
      hubAuthOidc: () => ({issuer}),
      setAccessTokenTtl: async (seconds) => {
        await admin('PUT', '/mod/plugin/oidc', {...plugin, parameters: {...plugin.parameters, 'access-token-duration': seconds}});
        // A running instance takes its new parameters when reset (docs/API.md, "Enable or disable an existing plugin module instance").
        await admin('PUT', '/mod/plugin/oidc/reset', undefined);
      },
      signIn: (page, user) => signIn(page, user),
      approveDevice: async (page, verificationUri, userCode, user) => {
        await page.goto(verificationUri);
        await page.getByPlaceholder('X1Y2-A3B4').fill(userCode);
        await page.getByRole('button', {name: 'OK'}).click();
        await signIn(page, user);
        await page.getByText('Authorization complete').waitFor();
      },
      refreshTokenWorks: async (refreshToken, clientId) =>
        (
          await fetch(`${issuer}/token`, {
            method: 'POST',
            body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId}),
          })
        ).ok,
      stop: async () => {
        await daemon.stop();
        await rm(webapp, {recursive: true, force: true});
      },
    } satisfies ProviderUnderTest;
  } catch (error) {
    await daemon.stop();
    throw new Error(`${(error as Error).message}\n${daemon.output()}`);
  }
};

/** The login page, then the grant page: the `hub` scope is granted by ticking it, as a person does. */
async function signIn(page: Page, user: ProviderUser): Promise<void> {
  await page.getByPlaceholder('Your username').fill(user.username);
  await page.getByPlaceholder('Your password').fill(user.password);
  await page.getByRole('button', {name: 'OK'}).click();
  const grant = page.getByRole('button', {name: 'Grant access'});
  const scope = page.getByRole('checkbox', {name: 'hub registry'});
  const proceed = page.getByRole('button', {name: 'Continue'});
  // Once the scope is granted, glewlwyd asks only to continue, or goes on by itself.
  const asked = await Promise.race([
    grant.waitFor().then(() => true),
    proceed.waitFor().then(() => true),
    page.waitForURL((url) => url.pathname.endsWith('/callback')).then(() => false),
    page
      .getByText('Authorization complete')
      .waitFor()
      .then(() => false),
  ]);
  if (!asked) return;
  if ((await grant.isVisible()) && !(await scope.isChecked())) {
    await scope.check();
    await grant.click();
  }
  await proceed.click();
}

/** Debian's configuration file for this instance: port, URLs, log, static files and its own SQLite database. */
async function instanceConfig(options: {port: number; url: string; database: string; webapp: string}): Promise<string> {
  const settings: Record<string, string> = {
    port: String(options.port),
    bind_address: '"127.0.0.1"',
    external_url: JSON.stringify(options.url),
    log_mode: '"console"',
    static_files_path: JSON.stringify(`${options.webapp}/`),
  };
  const lines = (await readFile(DEBIAN_CONFIG, 'utf8')).split('\n').map((line) => {
    const key = /^#?\s*([a-z_]+)\s*=/.exec(line)?.[1];
    if (key && key in settings) {
      const value = settings[key];
      delete settings[key];
      return `${key}=${value}`;
    }
    // Debian includes the database settings dbconfig-common wrote for the system's instance.
    if (line.startsWith('@include')) return `database = {\n  type = "sqlite3"\n  path = ${JSON.stringify(options.database)}\n};`;
    return line;
  });
  return [...lines, ...Object.entries(settings).map(([key, value]) => `${key}=${value}`), ''].join('\n');
}

type AdminCall = (method: string, path: string, body: unknown) => Promise<void>;

/** The admin API with the admin's session cookie (docs/API.md). */
async function adminSession(url: string): Promise<AdminCall> {
  const login = await fetch(`${url}/api/auth/`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify(ADMIN),
  });
  const cookie = login.headers.get('set-cookie')?.split(';')[0];
  if (!login.ok || !cookie) throw new Error(`glewlwyd admin login failed: HTTP ${login.status}`);
  return async (method, path, body) => {
    const response = await fetch(`${url}/api${path}`, {
      method,
      headers: {'content-type': 'application/json', cookie},
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`glewlwyd ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  };
}
