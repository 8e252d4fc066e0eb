import {execFile} from 'node:child_process';
import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {stringify} from 'yaml';
import {CLI_CLIENT_ID, INTROSPECTION_CLIENT, REGISTRY_AUDIENCE} from './identity-provider.js';
import {freePort, waitFor} from './ports.js';
import {startDaemon, type Daemon} from './process.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../../bin/hub-auth.js', import.meta.url));

export const SERVICE = 'hub-registry';
export const TOKEN_ISSUER = 'hub-auth';

export interface SigningFiles {
  key: string;
  certificate: string;
}

/** `hub-auth keygen`, as an operator runs it. */
export async function keygen(dir: string, algorithm: 'ES256' | 'RS256' = 'ES256'): Promise<SigningFiles> {
  await run(process.execPath, [BIN, 'keygen', '--out', dir, '--algorithm', algorithm, '--service', SERVICE, '--issuer', TOKEN_ISSUER]);
  return {key: join(dir, 'signing.key'), certificate: join(dir, 'signing.crt')};
}

export interface HubAuthOptions {
  dir: string;
  oidcIssuer: string;
  registryHost: string;
  signing: SigningFiles;
  publicRepositories?: string[];
  extra?: Record<string, unknown>;
}

/** The configuration file for one hub-auth, as the README describes it. */
export async function writeHubAuthConfig(options: HubAuthOptions, port: number): Promise<string> {
  await mkdir(options.dir, {recursive: true});
  const file = join(options.dir, `hub-auth-${port}.yml`);
  const config = {
    listen: {host: '127.0.0.1', port, requestTimeoutSeconds: 3},
    service: SERVICE,
    issuer: TOKEN_ISSUER,
    signing: {key: {file: options.signing.key}, certificate: {file: options.signing.certificate}},
    oidc: {
      issuer: options.oidcIssuer,
      audience: REGISTRY_AUDIENCE,
      introspection: {
        clientId: INTROSPECTION_CLIENT.id,
        clientSecret: {env: 'HUB_AUTH_INTROSPECTION_SECRET'},
        acceptedClientIds: [CLI_CLIENT_ID],
      },
    },
    client: {clientId: CLI_CLIENT_ID, audience: REGISTRY_AUDIENCE},
    // hub-auth reads the catalog itself (GET /repositories): a loopback registry speaks plain HTTP.
    registry: {host: options.registryHost, url: `http://${options.registryHost}`},
    // Instances started with the same dir share it, as instances behind one load balancer must.
    accounts: {bindingsFile: join(options.dir, 'account-bindings.json')},
    policy: {publicRepositories: options.publicRepositories ?? ['public/*']},
    ...options.extra,
  };
  await writeFile(file, stringify(config));
  return file;
}

export interface HubAuth {
  url: string;
  daemon: Daemon;
  stop(): Promise<void>;
}

/** The real `hub-auth serve`, in its own process, on a free loopback port. */
export async function startHubAuth(options: HubAuthOptions): Promise<HubAuth> {
  const port = await freePort();
  const config = await writeHubAuthConfig(options, port);
  const daemon = startDaemon(process.execPath, [BIN, 'serve', '--config', config], {
    env: {...process.env, HUB_AUTH_INTROSPECTION_SECRET: INTROSPECTION_CLIENT.secret},
    logFile: join(options.dir, `hub-auth-${port}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('hub-auth', async () => (await fetch(`${url}/readyz`)).status === 200);
  } catch (error) {
    await daemon.stop();
    throw new Error(`${(error as Error).message}\n${daemon.output()}`);
  }
  return {url, daemon, stop: () => daemon.stop()};
}
