import {createHash} from 'node:crypto';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {dockerodeOptions, findEngine} from '../../../src/docker/engine-address.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-engine-'));
});

afterEach(async () => {
  await rm(dir, {recursive: true, force: true});
});

const contextId = (name: string) => createHash('sha256').update(name).digest('hex');

async function writeConfig(config: object | string): Promise<void> {
  await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
}

/** Lays a context out the way `docker context create` does. */
async function writeContext(name: string, endpoint: object, tlsFiles: Record<string, string> = {}): Promise<string> {
  const metaDir = join(dir, 'contexts', 'meta', contextId(name));
  await mkdir(metaDir, {recursive: true});
  await writeFile(join(metaDir, 'meta.json'), JSON.stringify({Name: name, Metadata: {}, Endpoints: {docker: endpoint}}));
  const tlsDir = join(dir, 'contexts', 'tls', contextId(name), 'docker');
  if (Object.keys(tlsFiles).length > 0) {
    await mkdir(tlsDir, {recursive: true});
    for (const [file, content] of Object.entries(tlsFiles)) await writeFile(join(tlsDir, file), content);
  }
  return tlsDir;
}

describe('findEngine', () => {
  it('lets DOCKER_HOST win over contexts', async () => {
    await writeConfig({currentContext: 'remote'});
    await writeContext('remote', {Host: 'tcp://10.0.0.5:2376', SkipTLSVerify: false});
    expect(await findEngine({DOCKER_HOST: 'tcp://1.2.3.4:2375', DOCKER_CONTEXT: 'remote'}, dir, 'linux')).toEqual({
      source: 'DOCKER_HOST',
      host: 'tcp://1.2.3.4:2375',
    });
  });

  it('takes TLS settings for DOCKER_HOST from the environment', async () => {
    expect(await findEngine({DOCKER_HOST: 'tcp://1.2.3.4:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs'}, dir)).toEqual({
      source: 'DOCKER_HOST',
      host: 'tcp://1.2.3.4:2376',
      tls: {verify: true, certPath: '/certs'},
    });
    expect(await findEngine({DOCKER_HOST: 'tcp://1.2.3.4:2376', DOCKER_TLS: '1'}, dir)).toEqual({
      source: 'DOCKER_HOST',
      host: 'tcp://1.2.3.4:2376',
      tls: {verify: false, certPath: dir},
    });
  });

  it('reads a DOCKER_HOST without a scheme as the CLI does', async () => {
    expect((await findEngine({DOCKER_HOST: '/run/user/1000/docker.sock'}, dir)).host).toBe('unix:///run/user/1000/docker.sock');
    expect((await findEngine({DOCKER_HOST: '1.2.3.4:2375'}, dir)).host).toBe('tcp://1.2.3.4:2375');
  });

  it('uses the current context from config.json', async () => {
    await writeConfig({auths: {}, currentContext: 'remote'});
    await writeContext('remote', {Host: 'tcp://10.0.0.5:2375', SkipTLSVerify: false});
    expect(await findEngine({}, dir, 'linux')).toEqual({source: 'context', context: 'remote', host: 'tcp://10.0.0.5:2375'});
  });

  it('returns the TLS folder of a context that has one', async () => {
    await writeConfig({currentContext: 'secure'});
    const tlsDir = await writeContext('secure', {Host: 'tcp://10.0.0.5:2376', SkipTLSVerify: false}, {'ca.pem': 'CA'});
    expect(await findEngine({}, dir, 'linux')).toEqual({
      source: 'context',
      context: 'secure',
      host: 'tcp://10.0.0.5:2376',
      tls: {verify: true, certPath: tlsDir},
    });
  });

  it('keeps SkipTLSVerify of a context', async () => {
    await writeConfig({currentContext: 'lax'});
    await writeContext('lax', {Host: 'tcp://10.0.0.5:2376', SkipTLSVerify: true});
    expect((await findEngine({}, dir, 'linux')).tls).toEqual({verify: false});
  });

  it('lets DOCKER_CONTEXT override currentContext', async () => {
    await writeConfig({currentContext: 'remote'});
    await writeContext('remote', {Host: 'tcp://10.0.0.5:2375'});
    await writeContext('rootless', {Host: 'unix:///run/user/1000/docker.sock'});
    expect(await findEngine({DOCKER_CONTEXT: 'rootless'}, dir, 'linux')).toEqual({
      source: 'context',
      context: 'rootless',
      host: 'unix:///run/user/1000/docker.sock',
    });
  });

  it('treats the context named default as no context', async () => {
    await writeConfig({currentContext: 'remote'});
    expect(await findEngine({DOCKER_CONTEXT: 'default'}, dir, 'linux')).toEqual({source: 'default', host: 'unix:///var/run/docker.sock'});
  });

  it.each([
    [{DOCKER_CONTEXT: 'gone'}, 'from DOCKER_CONTEXT'],
    [{}, 'from currentContext in'],
  ])('names a context that does not exist and suggests docker context ls (%j)', async (env, origin) => {
    await writeConfig({currentContext: 'gone'});
    const error = await findEngine(env, dir, 'linux').catch((caught: unknown) => caught);
    expect(error).toMatchObject({name: 'HubError', code: 'docker_context_not_found'});
    const {message, suggestions} = error as {message: string; suggestions: string[]};
    expect(message).toContain('"gone"');
    expect(message).toContain(origin);
    expect(suggestions.join(' ')).toContain('docker context ls');
  });

  it('names a config.json that does not parse', async () => {
    await writeConfig('{"currentContext": ');
    await expect(findEngine({}, dir, 'linux')).rejects.toMatchObject({
      name: 'HubError',
      code: 'invalid_docker_config',
      message: expect.stringContaining(join(dir, 'config.json')),
    });
  });

  it.each([
    ['linux', 'unix:///var/run/docker.sock'],
    ['darwin', 'unix:///var/run/docker.sock'],
    ['win32', 'npipe:////./pipe/docker_engine'],
  ] as const)('falls back to the %s default', async (platform, host) => {
    expect(await findEngine({}, dir, platform)).toEqual({source: 'default', host});
  });

  it('goes to the TLS port on localhost when TLS is asked for without a host, as the CLI does', async () => {
    expect(await findEngine({DOCKER_TLS_VERIFY: '1'}, dir, 'linux')).toEqual({
      source: 'default',
      host: 'tcp://localhost:2376',
      tls: {verify: true, certPath: dir},
    });
  });
});

describe('dockerodeOptions', () => {
  it('connects to a unix socket', () => {
    expect(dockerodeOptions({source: 'default', host: 'unix:///var/run/docker.sock'})).toEqual({socketPath: '/var/run/docker.sock'});
  });

  it('connects to a named pipe', () => {
    expect(dockerodeOptions({source: 'default', host: 'npipe:////./pipe/docker_engine'})).toEqual({socketPath: '//./pipe/docker_engine'});
  });

  it('ignores TLS on a socket, as the CLI does', () => {
    expect(dockerodeOptions({source: 'context', host: 'unix:///x.sock', tls: {verify: true, certPath: dir}})).toEqual({
      socketPath: '/x.sock',
    });
  });

  it('connects over plain tcp', () => {
    expect(dockerodeOptions({source: 'DOCKER_HOST', host: 'tcp://1.2.3.4:2375'})).toEqual({host: '1.2.3.4', port: 2375, protocol: 'http'});
    expect(dockerodeOptions({source: 'DOCKER_HOST', host: 'tcp://[::1]'})).toEqual({host: '::1', port: 2375, protocol: 'http'});
  });

  it('connects over tcp with TLS material from the cert path', async () => {
    await writeFile(join(dir, 'ca.pem'), 'CA');
    await writeFile(join(dir, 'cert.pem'), 'CERT');
    await writeFile(join(dir, 'key.pem'), 'KEY');
    expect(dockerodeOptions({source: 'DOCKER_HOST', host: 'tcp://docker.example.com:2376', tls: {verify: true, certPath: dir}})).toEqual({
      host: 'docker.example.com',
      port: 2376,
      protocol: 'https',
      ca: Buffer.from('CA'),
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
    });
  });

  it('leaves out TLS files that are absent', async () => {
    await writeFile(join(dir, 'ca.pem'), 'CA');
    expect(dockerodeOptions({source: 'context', host: 'tcp://h:2376', tls: {verify: true, certPath: dir}})).toEqual({
      host: 'h',
      port: 2376,
      protocol: 'https',
      ca: Buffer.from('CA'),
    });
  });

  it.each(['ssh://me@host', 'fd://'])('refuses %s with a HubError', (host) => {
    expect(() => dockerodeOptions({source: 'DOCKER_HOST', host})).toThrow(expect.objectContaining({code: 'unsupported_docker_host'}));
  });

  it('refuses a tcp address without a host', () => {
    expect(() => dockerodeOptions({source: 'DOCKER_HOST', host: 'tcp://'})).toThrow(expect.objectContaining({code: 'invalid_docker_host'}));
  });
});
