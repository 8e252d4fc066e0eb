import {execFile} from 'node:child_process';
import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {stringify} from 'yaml';
import {CLI_CLIENT_ID, INTROSPECTION_CLIENT, WEB_CLIENT} from './identity-provider.js';
import {freePort, waitFor} from './ports.js';
import {startDaemon, type Daemon} from './process.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../hub-auth/bin/hub-auth.js', import.meta.url));

export const SERVICE = 'hub-registry';
export const TOKEN_ISSUER = 'hub-auth';

export interface SigningFiles {
  key: string;
  certificate: string;
}

/** Where hub-auth's CLI is: the built bin/hub-auth.js. */
export const HUB_AUTH_BIN = BIN;

/** How an operator's command ended. */
export interface HubAuthCommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The operator's command, as a process of its own: `hub-auth ARGS`, in `env` (by default nothing of the tests' but PATH). */
export function hubAuthCommand(args: string[], env: NodeJS.ProcessEnv = {PATH: process.env.PATH}): Promise<HubAuthCommandRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {env, timeout: 60_000}, (error, stdout, stderr) =>
      resolve({code: error ? Number((error as {code?: number}).code ?? -1) : 0, stdout, stderr}),
    );
  });
}

/**
 * `hub-auth keygen`, as an operator runs it. The realm it writes into registry-auth.yml is not
 * used: startRegistry writes the registry's auth block with the realm the test chose.
 */
export async function keygen(dir: string, algorithm: 'ES256' | 'RS256' = 'ES256'): Promise<SigningFiles> {
  await run(process.execPath, [
    BIN,
    'keygen',
    '--out',
    dir,
    '--algorithm',
    algorithm,
    '--realm',
    'https://hub-auth.invalid/token',
    '--service',
    SERVICE,
    '--issuer',
    TOKEN_ISSUER,
  ]);
  return {key: join(dir, 'signing.key'), certificate: join(dir, 'signing.crt')};
}

export interface HubAuthOptions {
  dir: string;
  oidcIssuer: string;
  registryHost: string;
  signing: SigningFiles;
  publicRepositories?: string[];
  /** Fields of `oidc` to set besides the issuer and introspection, e.g. usernameClaim. */
  oidc?: Record<string, unknown>;
  /** The whole `oidc` section instead of the one for the tests' oidc-provider: another provider's. */
  oidcSection?: Record<string, unknown>;
  /**
   * The `store` section: by default PGlite in DIR/store, which one instance only may open; instances
   * that share state (scale-out) get `{url}` of a PostgreSQL server (postgres.ts).
   */
  store?: Record<string, unknown>;
  /** Merged into the configuration, object by object (`{oidc: {introspection: {…}}}` changes just those fields). */
  extra?: Record<string, unknown>;
  /** Return once it is alive (/healthz) rather than ready (/readyz): for a provider that is down. */
  untilAlive?: boolean;
  /** Added to hub-auth's environment (e.g. HTTPS_PROXY). */
  env?: NodeJS.ProcessEnv;
  /** Options for node itself, before hub-auth's bin (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
  nodeOptions?: string[];
  /** Another build's bin/hub-auth.js: the bench runs the version before beside this one (bench/previous-build.ts). */
  bin?: string;
  /** The token port, chosen up front where a provider must know hub-auth's URL before it starts (back-channel logout). */
  port?: number;
}

/** The bearer token the stack's registry sends its notifications to hub-auth with; test-only. */
export const NOTIFICATION_TOKEN = 'test-only-registry-notification-token';

/** hub-auth's `registryNotifications` section, reading NOTIFICATION_TOKEN from its environment. */
export const registryNotificationsSection = {token: {env: 'HUB_AUTH_NOTIFICATION_TOKEN'}};

/** hub-auth's `web` section for the stack's provider, whose web client expects it at `publicUrl` (identity-provider.ts, webHubUrl). */
export const webSection = (publicUrl: string) => ({
  enabled: true,
  clientId: WEB_CLIENT.id,
  clientSecret: {env: 'HUB_AUTH_WEB_CLIENT_SECRET'},
  publicUrl,
});

/** The configuration file for one hub-auth, as the README describes it. */
export async function writeHubAuthConfig(options: HubAuthOptions, port: number, monitoringPort: number): Promise<string> {
  await mkdir(options.dir, {recursive: true});
  const file = join(options.dir, `hub-auth-${port}.yml`);
  const config = {
    listen: {host: '127.0.0.1', port, requestTimeoutSeconds: 3},
    monitoring: {host: '127.0.0.1', port: monitoringPort},
    service: SERVICE,
    issuer: TOKEN_ISSUER,
    signing: {key: {file: options.signing.key}, certificate: {file: options.signing.certificate}},
    // No oidc.audience: hub-auth accepts its own registry's, https://REGISTRY-HOST, as hub asks.
    oidc: options.oidcSection ?? {
      issuer: options.oidcIssuer,
      introspection: {clientId: INTROSPECTION_CLIENT.id, clientSecret: {env: 'HUB_AUTH_INTROSPECTION_SECRET'}},
      ...options.oidc,
    },
    client: {clientId: CLI_CLIENT_ID},
    // hub-auth reads the catalog itself (GET /repositories): a loopback registry speaks plain HTTP.
    registry: {host: options.registryHost, url: `http://${options.registryHost}`},
    // Imported into the store once if a test put one there, as an upgrade from an earlier version does.
    accounts: {bindingsFile: join(options.dir, 'account-bindings.json')},
    store: options.store ?? {dataDir: join(options.dir, 'store')},
    policy: {publicRepositories: options.publicRepositories ?? ['public/*']},
  };
  await writeFile(file, stringify(merged(config, options.extra ?? {})));
  return file;
}

function merged(base: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const result = {...base};
  for (const [key, value] of Object.entries(changes)) {
    const old = result[key];
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    result[key] = isObject(old) && isObject(value) ? merged(old, value) : value;
  }
  return result;
}

export interface HubAuth {
  url: string;
  /** The monitoring listener: /metrics, /healthz, /readyz. */
  monitoringUrl: string;
  /** Its configuration file, to be rewritten before a SIGHUP (writeHubAuthConfig with `port` and `monitoringPort`). */
  configFile: string;
  port: number;
  monitoringPort: number;
  daemon: Daemon;
  stop(): Promise<void>;
}

/** Lines of hub-auth's log (JSON, one object a line) whose msg contains `text`. */
export function hubAuthLogLines(hubAuth: HubAuth, text: string): Array<Record<string, unknown> & {msg: string}> {
  return hubAuth.daemon
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown> & {msg: string})
    .filter((line) => line.msg.includes(text));
}

/** `hub-auth serve` with that configuration, started and not waited for (the bench times its start). */
export function spawnHubAuth(
  configFile: string,
  logFile: string,
  env: NodeJS.ProcessEnv = {},
  nodeOptions: string[] = [],
  bin = BIN,
): Daemon {
  return startDaemon(process.execPath, [...nodeOptions, bin, 'serve', '--config', configFile], {
    env: {
      ...process.env,
      ...env,
      HUB_AUTH_INTROSPECTION_SECRET: INTROSPECTION_CLIENT.secret,
      HUB_AUTH_WEB_CLIENT_SECRET: WEB_CLIENT.secret,
      HUB_AUTH_NOTIFICATION_TOKEN: NOTIFICATION_TOKEN,
    },
    logFile,
  });
}

/** The real `hub-auth serve`, in its own process, on a free loopback port. */
export async function startHubAuth(options: HubAuthOptions): Promise<HubAuth> {
  const port = options.port ?? (await freePort());
  const monitoringPort = await freePort();
  const config = await writeHubAuthConfig(options, port, monitoringPort);
  const daemon = spawnHubAuth(config, join(options.dir, `hub-auth-${port}.log`), options.env, options.nodeOptions, options.bin);
  const url = `http://127.0.0.1:${port}`;
  const monitoringUrl = `http://127.0.0.1:${monitoringPort}`;
  try {
    // 60 s: its start costs ~1.5 s of CPU, but took 15–20 s on the 2-core CI machine at load 30.
    await waitFor(
      'hub-auth',
      async () => (await fetch(`${monitoringUrl}/${options.untilAlive ? 'healthz' : 'readyz'}`)).status === 200,
      60_000,
    );
  } catch (error) {
    await daemon.stop();
    throw new Error(`${(error as Error).message}\n${daemon.output()}`);
  }
  return {url, monitoringUrl, configFile: config, port, monitoringPort, daemon, stop: () => daemon.stop()};
}
