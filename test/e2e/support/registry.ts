import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
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

export async function startRegistry(dir: string, auth: RegistryAuth, port?: number): Promise<Registry> {
  await mkdir(join(dir, 'storage'), {recursive: true});
  port ??= await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'storage'))}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}", secret: "test-only-not-secret"}`,
      'auth:',
      '  token:',
      `    realm: ${JSON.stringify(auth.realm)}`,
      `    service: ${JSON.stringify(auth.service)}`,
      `    issuer: ${JSON.stringify(auth.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(auth.rootCertBundle)}`,
      '',
    ].join('\n'),
  );
  const daemon = startDaemon('docker-registry', ['serve', config]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('docker-registry', async () => (await fetch(`${url}/v2/`)).status === 401);
  } catch (error) {
    await daemon.stop();
    throw new Error(`${(error as Error).message}\n${daemon.output()}`);
  }
  return {host: `127.0.0.1:${port}`, url, stop: () => daemon.stop()};
}
