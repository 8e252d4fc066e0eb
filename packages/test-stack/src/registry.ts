import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {Agent, request} from 'undici';
import {freePort, waitFor} from './ports.js';
import {startDaemon} from './process.js';

/** Debian's docker-registry (CNCF distribution 2.8) with token auth pointing at a realm. */
export interface Registry {
  /** host:port, as docker names it. */
  host: string;
  url: string;
  stop(): Promise<void>;
}

export interface RegistryAuth {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

/** Served over https under `hostname` (which must point at loopback for clients, e.g. through a proxy), with a private CA's certificate. */
export interface RegistryTls {
  hostname: string;
  certificate: string;
  key: string;
  ca: string;
}

/** Where the registry posts its notifications (distribution's notifications.endpoints), with this bearer token. */
export interface RegistryNotifications {
  url: string;
  token: string;
}

export async function startRegistry(
  dir: string,
  auth: RegistryAuth,
  port?: number,
  tls?: RegistryTls,
  notifications?: RegistryNotifications,
): Promise<Registry> {
  await mkdir(join(dir, 'storage'), {recursive: true});
  port ??= await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'storage'))}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}", secret: "test-only-not-secret"${tls ? `, tls: {certificate: ${JSON.stringify(tls.certificate)}, key: ${JSON.stringify(tls.key)}}` : ''}}`,
      'auth:',
      '  token:',
      `    realm: ${JSON.stringify(auth.realm)}`,
      `    service: ${JSON.stringify(auth.service)}`,
      `    issuer: ${JSON.stringify(auth.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(auth.rootCertBundle)}`,
      ...(notifications
        ? [
            'notifications:',
            '  endpoints:',
            '    - name: hub-auth',
            `      url: ${JSON.stringify(notifications.url)}`,
            `      headers: {Authorization: [${JSON.stringify(`Bearer ${notifications.token}`)}]}`,
            '      timeout: 2s',
            '      threshold: 5',
            '      backoff: 1s',
          ]
        : []),
      '',
    ].join('\n'),
  );
  const daemon = startDaemon('docker-registry', ['serve', config]);
  const url = tls ? `https://${tls.hostname}:${port}` : `http://127.0.0.1:${port}`;
  // A TLS registry is asked on loopback, under its name (SNI) and trusting its CA.
  const dispatcher = tls ? new Agent({connect: {ca: await readFile(tls.ca, 'utf8'), servername: tls.hostname}}) : undefined;
  try {
    await waitFor(
      'docker-registry',
      // request, not fetch: the port may be one browsers block (freeBlockedPort).
      async () => {
        const {statusCode, body} = await request(`${tls ? 'https' : 'http'}://127.0.0.1:${port}/v2/`, dispatcher ? {dispatcher} : {});
        await body.dump();
        return statusCode === 401;
      },
    );
  } catch (error) {
    await daemon.stop();
    throw new Error(`${(error as Error).message}\n${daemon.output()}`);
  }
  await dispatcher?.close();
  return {host: `${tls?.hostname ?? '127.0.0.1'}:${port}`, url, stop: () => daemon.stop()};
}
