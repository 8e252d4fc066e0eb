import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {readFile, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {HubError, type HubErrorCode} from '@hub/common/errors';

export interface EngineAddress {
  source: 'DOCKER_HOST' | 'context' | 'default';
  /** e.g. unix:///var/run/docker.sock, tcp://1.2.3.4:2376, npipe:////./pipe/docker_engine */
  host: string;
  context?: string;
  tls?: {verify: boolean; certPath?: string};
}

export interface DockerodeOptions {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** The name docker reserves for "DOCKER_HOST or the platform default", which has no files. */
const defaultContextName = 'default';

// docker/cli opts/hosts.go: a TLS default host and a TCP address without a port.
const defaultTlsHost = 'tcp://localhost:2376';
const defaultTcpPort = 2375;

/**
 * The engine the docker CLI would talk to, in the CLI's order: DOCKER_HOST, then the context named
 * by DOCKER_CONTEXT or config.json's currentContext, then the platform default.
 */
export async function findEngine(
  env: NodeJS.ProcessEnv,
  dockerConfigDir: string,
  platform: NodeJS.Platform = process.platform,
): Promise<EngineAddress> {
  const tls = tlsFromEnv(env, dockerConfigDir);
  if (env.DOCKER_HOST) return {source: 'DOCKER_HOST', host: withScheme(env.DOCKER_HOST), ...(tls ? {tls} : {})};
  const context = await chosenContext(env, dockerConfigDir);
  if (context) return loadContext(context, dockerConfigDir, platform);
  // With TLS asked for and no host, the CLI does not use the local socket but the TLS port on localhost.
  if (tls) return {source: 'default', host: defaultTlsHost, tls};
  return {source: 'default', host: platformDefaultHost(platform)};
}

export function dockerodeOptions(address: EngineAddress): DockerodeOptions {
  const schemeEnd = address.host.indexOf('://');
  const scheme = schemeEnd === -1 ? '' : address.host.slice(0, schemeEnd);
  const rest = address.host.slice(schemeEnd + 3);
  // Named pipes are opened by path like sockets: `npipe:////./pipe/x` is the path `//./pipe/x`.
  if (scheme === 'unix' || scheme === 'npipe') return {socketPath: rest};
  if (scheme === 'tcp') return tcpOptions(address);
  throw unsupportedHost(address);
}

/** DOCKER_TLS_VERIFY and DOCKER_TLS count when non-empty, whatever they say, as in the CLI. */
function tlsFromEnv(env: NodeJS.ProcessEnv, dockerConfigDir: string): EngineAddress['tls'] {
  if (!env.DOCKER_TLS_VERIFY && !env.DOCKER_TLS) return undefined;
  return {verify: Boolean(env.DOCKER_TLS_VERIFY), certPath: env.DOCKER_CERT_PATH || dockerConfigDir};
}

/** The CLI reads a DOCKER_HOST without a scheme as a socket path when it looks like one, else TCP. */
function withScheme(host: string): string {
  if (host.includes('://')) return host;
  return host.startsWith('/') || host.startsWith('./') ? `unix://${host}` : `tcp://${host}`;
}

function platformDefaultHost(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'npipe:////./pipe/docker_engine' : 'unix:///var/run/docker.sock';
}

interface ChosenContext {
  name: string;
  /** Where the name came from, so that an error can point at what to change. */
  origin: string;
}

async function chosenContext(env: NodeJS.ProcessEnv, dockerConfigDir: string): Promise<ChosenContext | undefined> {
  const chosen = env.DOCKER_CONTEXT ? {name: env.DOCKER_CONTEXT, origin: 'DOCKER_CONTEXT'} : await currentContext(dockerConfigDir);
  return chosen && chosen.name !== defaultContextName ? chosen : undefined;
}

async function currentContext(dockerConfigDir: string): Promise<ChosenContext | undefined> {
  const file = join(dockerConfigDir, 'config.json');
  const config = await readJson(file, 'invalid_docker_config');
  const name = goField(config, 'currentContext');
  return typeof name === 'string' && name ? {name, origin: `currentContext in ${file}`} : undefined;
}

async function loadContext(context: ChosenContext, dockerConfigDir: string, platform: NodeJS.Platform): Promise<EngineAddress> {
  // docker/cli's context store names each context's folders after the sha256 of its name.
  const id = createHash('sha256').update(context.name).digest('hex');
  const metaFile = join(dockerConfigDir, 'contexts', 'meta', id, 'meta.json');
  const meta = await readJson(metaFile, 'invalid_docker_context');
  if (meta === undefined) throw contextNotFound(context);
  const endpoint = dockerEndpoint(meta);
  if (endpoint === undefined) {
    throw new HubError(`Docker context "${context.name}" has no docker endpoint (${metaFile}).`, {
      code: 'invalid_docker_context',
      suggestions: [`Run \`docker context inspect ${context.name}\` to see it, or choose another context with \`docker context use\`.`],
    });
  }
  const host = goField(endpoint, 'Host');
  const skipVerify = goField(endpoint, 'SkipTLSVerify') === true;
  const tlsDir = join(dockerConfigDir, 'contexts', 'tls', id, 'docker');
  const hasTlsFiles = await isDirectory(tlsDir);
  return {
    source: 'context',
    context: context.name,
    host: typeof host === 'string' && host ? withScheme(host) : platformDefaultHost(platform),
    ...(hasTlsFiles || skipVerify ? {tls: {verify: !skipVerify, ...(hasTlsFiles ? {certPath: tlsDir} : {})}} : {}),
  };
}

/** Endpoint names are map keys, which Go matches exactly; struct fields it matches in any case. */
function dockerEndpoint(meta: unknown): unknown {
  const endpoints = goField(meta, 'Endpoints');
  return isObject(endpoints) && Object.hasOwn(endpoints, 'docker') ? endpoints.docker : undefined;
}

/** A missing file is undefined: docker runs without a config.json, and a context without meta.json does not exist. */
async function readJson(file: string, code: HubErrorCode): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HubError(`Cannot read ${file}: ${(error as Error).message}`, {code, cause: error});
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HubError(`${file} is not valid JSON: ${(error as Error).message}`, {
      code,
      cause: error,
      suggestions: ['Fix or remove the file; docker cannot read it either.'],
    });
  }
}

/** Go's encoding/json prefers the exact key, then accepts one that differs only in case. */
function goField(value: unknown, key: string): unknown {
  if (!isObject(value)) return undefined;
  if (Object.hasOwn(value, key)) return value[key];
  const match = Object.keys(value).find((candidate) => candidate.toLowerCase() === key.toLowerCase());
  return match === undefined ? undefined : value[match];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function tcpOptions(address: EngineAddress): DockerodeOptions {
  const url = URL.parse(address.host);
  if (!url?.hostname) {
    throw new HubError(`The Docker engine address ${address.host} (from ${address.source}) is not a valid tcp:// address.`, {
      code: 'invalid_docker_host',
      suggestions: ['Write it as tcp://host:port, e.g. tcp://192.0.2.10:2376.'],
    });
  }
  // Node wants IPv6 hosts bare; URL keeps the brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : defaultTcpPort;
  const {tls} = address;
  if (!tls) return {host, port, protocol: 'http'};
  return {host, port, protocol: 'https', ...(tls.certPath ? tlsMaterial(tls.certPath) : {})};
}

/** The CLI goes on without a file that is absent (falling back to the system's CAs), so hub does too. */
function tlsMaterial(certPath: string): Pick<DockerodeOptions, 'ca' | 'cert' | 'key'> {
  const ca = readIfPresent(join(certPath, 'ca.pem'));
  const cert = readIfPresent(join(certPath, 'cert.pem'));
  const key = readIfPresent(join(certPath, 'key.pem'));
  return {...(ca && {ca}), ...(cert && {cert}), ...(key && {key})};
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HubError(`Cannot read the Docker TLS file ${file}: ${(error as Error).message}`, {
      code: 'docker_tls_unreadable',
      cause: error,
    });
  }
}

function contextNotFound(context: ChosenContext): HubError {
  return new HubError(`Docker context "${context.name}" (from ${context.origin}) does not exist.`, {
    code: 'docker_context_not_found',
    suggestions: ['Run `docker context ls` to see the contexts there are, then `docker context use <name>` or fix ' + context.origin + '.'],
  });
}

function unsupportedHost(address: EngineAddress): HubError {
  return new HubError(`hub cannot reach the Docker engine at ${address.host}: only unix://, npipe:// and tcp:// addresses are supported.`, {
    code: 'unsupported_docker_host',
    suggestions: [
      'For an ssh:// engine, forward its socket, e.g. `ssh -NL /tmp/docker.sock:/var/run/docker.sock user@host`, and set DOCKER_HOST=unix:///tmp/docker.sock.',
    ],
  });
}
