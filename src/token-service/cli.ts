import {chmod, mkdir, writeFile} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {ConfigError, loadConfig} from './config.js';
import {createLogger, createTokenService} from './service.js';

const USAGE = `hub-auth — the registry's token service for hub

Usage:
  hub-auth serve --config FILE
  hub-auth keygen --out DIR [--algorithm ES256|RS256] [--days 365] [--common-name NAME]
                  [--realm URL --service NAME --issuer NAME]

serve    answers the registry's token requests (Docker token auth) with the policy in FILE
keygen   writes signing.key (0600), signing.crt and the registry's auth.token config snippet
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') return await serve(rest);
    if (command === 'keygen') return await keygen(rest);
    process.stderr.write(command === undefined || command === '--help' || command === 'help' ? USAGE : `hub-auth: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
  } catch (error) {
    if (error instanceof ConfigError || (error as {code?: string}).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`hub-auth: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

async function serve(args: string[]): Promise<number> {
  const {values} = parseArgs({args, options: {config: {type: 'string', short: 'c'}}, strict: true});
  if (!values.config) throw new ConfigError('serve needs --config FILE');
  const config = await loadConfig(values.config);
  const logger = createLogger();
  const {app, monitoring} = await createTokenService(config, logger);
  const address = await app.listen({host: config.listen.host, port: config.listen.port});
  const monitoringAddress = await monitoring.listen({host: config.monitoring.host, port: config.monitoring.port});
  logger.info({address, monitoring: monitoringAddress, service: config.service, issuer: config.oidc.issuer}, 'hub-auth listening');
  // Readiness warms the provider metadata; a failure here is logged, /readyz keeps saying why.
  monitoring.inject({url: '/readyz'}).catch(() => {});
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void Promise.all([app.close(), monitoring.close()]).then(() => {
        logger.flush(); // the last batch of decision lines
        process.exit(0);
      });
    });
  }
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
      realm: {type: 'string', default: 'https://hub-auth.example.com/token'},
      service: {type: 'string', default: 'registry.example.com'},
      issuer: {type: 'string', default: 'hub-auth'},
    },
  });
  if (!values.out) throw new ConfigError('keygen needs --out DIR');
  if (values.algorithm !== 'ES256' && values.algorithm !== 'RS256') throw new ConfigError('--algorithm must be ES256 or RS256');
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1) throw new ConfigError('--days must be a whole number of days');
  // Loaded here only: `serve` has no use for certificate generation.
  const {generateSigningMaterial, registryAuthSnippet} = await import('./keygen.js');
  const dir = resolve(values.out);
  await mkdir(dir, {recursive: true, mode: 0o700});
  const material = await generateSigningMaterial({algorithm: values.algorithm, commonName: values['common-name'], days});
  const keyFile = join(dir, 'signing.key');
  const certFile = join(dir, 'signing.crt');
  await writeFile(keyFile, material.privateKeyPem, {mode: 0o600});
  await chmod(keyFile, 0o600);
  await writeFile(certFile, material.certificatePem, {mode: 0o644});
  const snippet = registryAuthSnippet({realm: values.realm, service: values.service, issuer: values.issuer, rootCertBundle: certFile});
  await writeFile(join(dir, 'registry-auth.yml'), snippet);
  process.stderr.write(`wrote ${keyFile} (0600), ${certFile} and ${join(dir, 'registry-auth.yml')}:\n\n`);
  process.stdout.write(snippet);
  return 0;
}
