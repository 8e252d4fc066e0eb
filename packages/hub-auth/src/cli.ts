import {access, chmod, mkdir, rm, writeFile} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {honourProxyEnvironment} from '@hub/common/net/proxy-environment';
import {ConfigError, loadConfig} from './config.js';
import {openStore} from './store/open-store.js';
import {watchProviderUntilReady} from './oidc/provider-watch.js';
import {reloadOnHangup} from './http/reload.js';
import {createLogger, createTokenService} from './http/service.js';
import {DRAIN_TIMEOUT_MS, drainOnSignals} from './http/shutdown.js';
import {hubAuthVersion} from './version.js';
import {quoted} from '@hub/common/quote';
import {establishAdminCredential} from './admin-credential.js';
import {OperatorFailure} from './operator/admin-client.js';
import {OPERATOR_COMMANDS, OPERATOR_USAGE} from './operator/commands.js';

const USAGE = `hub-auth — the registry's token service for hub

Usage:
  hub-auth serve --config FILE
  hub-auth keygen --out DIR --realm URL --service NAME [--issuer NAME] [--algorithm ES256|RS256]
                  [--days 365] [--common-name NAME] [--force]
  hub-auth sessions list --config FILE [--account NAME] [--json]
  hub-auth revoke --config FILE (--account NAME | --subject ISS SUB | --session ID)
  hub-auth accounts release NAME --config FILE [--to ISS SUB]
  hub-auth --version
  hub-auth COMMAND --help

serve    answers the registry's token requests (Docker token auth) with the policy in FILE
keygen   writes signing.key (0600), signing.crt and the registry's auth.token config snippet
sessions lists the live sign-in sessions of the instance FILE configures
revoke   ends sign-in sessions: their identity tokens are refused on every instance
accounts release frees an account name (or gives it to --to) and ends its old holder's sessions

Exit codes: 0 success, 1 failure (port in use, files that cannot be written, the instance not running
or refusing the admin credential, an unknown session), 2 bad usage or configuration.
`;

const COMMAND_USAGE = {
  serve: `Usage: hub-auth serve --config FILE

Answers the registry's token requests (Docker token auth) with the policy in FILE
(deploy/hub-auth.yml documents every field), on listen.host:listen.port.
SIGTERM or SIGINT: answer the requests in progress (at most ${DRAIN_TIMEOUT_MS / 1000} s), then exit 0.
SIGHUP: read FILE (and the keys and secrets it names) again and use it; listen and monitoring
        addresses, timeouts and limits change only with a restart.

  -c, --config FILE   the YAML configuration
  -h, --help          this help
`,
  keygen: `Usage: hub-auth keygen --out DIR --realm URL --service NAME [options]

Writes DIR/signing.key (0600), DIR/signing.crt and DIR/registry-auth.yml, the auth.token block
for the registry's config.yml, also printed on stdout. Refuses to replace existing files.

  --out DIR              where to write (created, 0700)
  --realm URL            hub-auth's token URL as clients reach it, e.g. https://auth.example.com/token
  --service NAME         the registry's service name: hub-auth's \`service\`
  --issuer NAME          the tokens' issuer: hub-auth's \`issuer\` (default: hub-auth)
  --algorithm ES256|RS256  signing algorithm (default: ES256)
  --days N               certificate validity in days (default: 365)
  --common-name NAME     the certificate's CN (default: hub-auth)
  --force                replace existing files: a new key, which the registry must be given
  -h, --help             this help
`,
  ...OPERATOR_USAGE,
} as const;

type Command = keyof typeof COMMAND_USAGE;
const HELP = new Set(['--help', '-h', 'help']);
const VERSION = new Set(['--version', '-v']);

/** A failure of the operation itself, not of how it was asked for: exit 1, no stack trace. */
class Failure extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || HELP.has(command)) {
    process.stdout.write(isCommand(rest[0]) ? COMMAND_USAGE[rest[0]] : USAGE);
    return 0;
  }
  if (VERSION.has(command)) {
    process.stdout.write(`hub-auth/${hubAuthVersion()} ${process.platform}-${process.arch} node-${process.version}\n`);
    return 0;
  }
  if (!isCommand(command)) {
    process.stderr.write(`hub-auth: unknown command ${quoted(command)}\n\n${USAGE}`);
    return 2;
  }
  if (rest.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(COMMAND_USAGE[command]);
    return 0;
  }
  try {
    if (command === 'serve') return await serve(rest);
    return await (command === 'keygen' ? keygen(rest) : OPERATOR_COMMANDS[command](rest));
  } catch (error) {
    if (error instanceof Failure || error instanceof OperatorFailure) {
      process.stderr.write(`hub-auth: ${error.message}\n`);
      return 1;
    }
    if (error instanceof ConfigError || (error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`hub-auth: ${(error as Error).message}\nSee 'hub-auth ${command} --help'.\n`);
      return 2;
    }
    throw error;
  }
}

function isCommand(word: string | undefined): word is Command {
  return word !== undefined && Object.hasOwn(COMMAND_USAGE, word);
}

async function serve(args: string[]): Promise<number> {
  const {values} = parseArgs({args, options: {config: {type: 'string', short: 'c'}}, strict: true});
  const configFile = values.config;
  if (!configFile) throw new ConfigError('serve needs --config FILE');
  const config = await loadConfig(configFile);
  await honourProxyEnvironment().catch((error: Error) => {
    throw new ConfigError(error.message);
  });
  const logger = createLogger();
  const store = await openStore(config.store, logger);
  logger.info({event: 'store', where: store.where}, 'store opened');
  const admin = await establishAdminCredential(config).then(
    ({credential, file}) => {
      if (file) logger.info({event: 'admin', credentialFile: file}, 'the admin API takes the credential in this file');
      return {credential};
    },
    // Logins go on without it: a state directory hub-auth cannot write must not stop the registry.
    (error: Error) => {
      logger.error({event: 'admin', reason: error.message}, 'the admin API is off: it has no credential');
      return {problem: error.message};
    },
  );
  const service = await createTokenService(config, store, logger, process.env, undefined, admin);
  const {app, monitoring} = service;
  const listen = async (server: typeof app, section: 'listen' | 'monitoring'): Promise<string> => {
    const {host, port} = config[section];
    try {
      return await server.listen({host, port});
    } catch (error) {
      await Promise.all([app.close(), monitoring.close(), store.close()]);
      throw listenFailure(error, `${host}:${port}`, section, configFile);
    }
  };
  const address = await listen(app, 'listen');
  const monitoringAddress = await listen(monitoring, 'monitoring');
  logger.info({address, monitoring: monitoringAddress, service: config.service, issuer: config.oidc.issuer}, 'hub-auth listening');
  watchProviderUntilReady(service.providerReady, logger);
  drainOnSignals({app, monitoring, store}, logger);
  reloadOnHangup(configFile, config, service, store, logger);
  return new Promise<number>(() => {});
}

async function keygen(args: string[]): Promise<number> {
  const {values} = parseArgs({
    args,
    strict: true,
    options: {
      out: {type: 'string'},
      algorithm: {type: 'string', default: 'ES256'},
      days: {type: 'string', default: '365'},
      'common-name': {type: 'string', default: 'hub-auth'},
      // No defaults: a placeholder realm or service in the snippet gives a registry that sends
      // every client to a host that is not there.
      realm: {type: 'string'},
      service: {type: 'string'},
      issuer: {type: 'string', default: 'hub-auth'},
      force: {type: 'boolean', default: false},
    },
  });
  if (!values.out) throw new ConfigError('keygen needs --out DIR');
  if (!values.realm)
    throw new ConfigError("keygen needs --realm URL: where clients reach hub-auth's /token, e.g. https://auth.example.com/token");
  if (!URL.canParse(values.realm))
    throw new ConfigError(`--realm must be a URL, e.g. https://auth.example.com/token (got ${quoted(values.realm)})`);
  if (!values.service) throw new ConfigError("keygen needs --service NAME: the registry's service name, as in hub-auth's configuration");
  if (values.algorithm !== 'ES256' && values.algorithm !== 'RS256') throw new ConfigError('--algorithm must be ES256 or RS256');
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1) throw new ConfigError('--days must be a whole number of days');
  const dir = resolve(values.out);
  const files = {key: join(dir, 'signing.key'), certificate: join(dir, 'signing.crt'), snippet: join(dir, 'registry-auth.yml')};
  if (!values.force) await refuseToReplace(Object.values(files));
  // Loaded here only: `serve` has no use for certificate generation.
  const {generateSigningMaterial, registryAuthSnippet} = await import('./tokens/keygen.js');
  const material = await generateSigningMaterial({algorithm: values.algorithm, commonName: values['common-name'], days});
  const snippet = registryAuthSnippet({
    realm: values.realm,
    service: values.service,
    issuer: values.issuer,
    rootCertBundle: files.certificate,
  });
  // 'wx' fails on a file that appeared since the check above, rather than replacing it; --force
  // removes the old files first, so that a symbolic link in their place is replaced, never
  // written through (the private key would go wherever the link points).
  try {
    if (values.force) for (const file of Object.values(files)) await rm(file, {force: true});
    await mkdir(dir, {recursive: true, mode: 0o700});
    await writeFile(files.key, material.privateKeyPem, {mode: 0o600, flag: 'wx'});
    await chmod(files.key, 0o600);
    await writeFile(files.certificate, material.certificatePem, {mode: 0o644, flag: 'wx'});
    await writeFile(files.snippet, snippet, {flag: 'wx'});
  } catch (error) {
    const {code, path} = error as NodeJS.ErrnoException;
    const reason = WRITE_FAILURES[code ?? ''] ?? code ?? (error as Error).message;
    throw new Failure(`cannot write ${path ?? dir}: ${reason}. Choose an --out folder hub-auth can create and write.`);
  }
  process.stderr.write(`wrote ${files.key} (0600), ${files.certificate} and ${files.snippet}:\n\n`);
  process.stdout.write(snippet);
  return 0;
}

const WRITE_FAILURES: Record<string, string> = {
  ENOTDIR: 'part of the path is a file, not a folder',
  EEXIST: 'it exists and is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/** A second keygen must not silently replace the key the registry trusts. */
async function refuseToReplace(files: string[]): Promise<void> {
  const existing: string[] = [];
  for (const file of files) {
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      existing.push(file);
  }
  if (existing.length > 0) {
    throw new Failure(
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: not replaced. Use --force to make a new key, then give the registry the new signing.crt.`,
    );
  }
}

/** Why `serve` could not listen, in one line that names the address and the file that chose it. */
function listenFailure(error: unknown, address: string, section: string, configFile: string): unknown {
  const reasons: Record<string, string> = {
    EADDRINUSE: 'the port is in use by another process',
    EACCES: 'permission denied (ports below 1024 need privileges)',
    EADDRNOTAVAIL: 'no interface of this machine has that address',
  };
  const reason = reasons[(error as {code?: string}).code ?? ''];
  return reason
    ? new Failure(`cannot listen on ${address}: ${reason}. Change ${section} in ${configFile}, or stop what holds the port.`)
    : error;
}
