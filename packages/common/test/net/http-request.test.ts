import {createServer, type IncomingMessage, type Server} from 'node:http';
import {execFile} from 'node:child_process';
import type {AddressInfo} from 'node:net';
import {promisify} from 'node:util';
import {afterEach, describe, expect, it} from 'vitest';
import {fetch} from 'undici';
import {freeBlockedPort} from '@hub/test-stack/ports';
import {httpRequest} from '../../src/net/http-request.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(handler: (request: IncomingMessage, body: string) => [number, Record<string, string>, string], port = 0) {
  const seen: Array<{url: string; authorization?: string; body: string}> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({url: request.url ?? '', authorization: request.headers.authorization, body});
      const [status, headers, text] = handler(request, body);
      response.writeHead(status, headers).end(text);
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  servers.push(server);
  return {origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen};
}

const signal = () => AbortSignal.timeout(5000);

describe('httpRequest', () => {
  it('reaches a server on a port browsers block, which fetch refuses', async () => {
    const registry = await serve(() => [401, {'www-authenticate': 'Bearer realm="x"'}, ''], await freeBlockedPort());
    await expect(fetch(`${registry.origin}/v2/`)).rejects.toThrow('fetch failed');
    const response = await httpRequest(`${registry.origin}/v2/`, {headers: {}, signal: signal()});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="x"');
  });

  it('follows a GET’s redirect, without Authorization to another origin', async () => {
    const other = await serve(() => [200, {'content-type': 'application/json'}, '{"ok":true}']);
    const first = await serve(() => [302, {location: `${other.origin}/there`}, '']);
    const response = await httpRequest(`${first.origin}/here`, {headers: {authorization: 'Bearer secret'}, signal: signal()});
    expect(await response.json()).toEqual({ok: true});
    expect(first.seen[0]?.authorization).toBe('Bearer secret');
    expect(other.seen).toEqual([{url: '/there', authorization: undefined, body: ''}]);
  });

  it('posts a form as a form and follows no redirect with it', async () => {
    const other = await serve(() => [200, {}, '']);
    const realm = await serve(() => [307, {location: `${other.origin}/token`}, '']);
    const response = await httpRequest(`${realm.origin}/token`, {
      headers: {},
      form: new URLSearchParams({grant_type: 'password', password: 'token'}),
      signal: signal(),
    });
    expect(response.status).toBe(307);
    expect(realm.seen[0]?.body).toBe('grant_type=password&password=token');
    expect(other.seen).toEqual([]);
  });

  it('answers a status without a body, such as 204, with an empty one', async () => {
    const server = await serve(() => [204, {}, '']);
    const response = await httpRequest(server.origin, {headers: {}, signal: signal()});
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('follows a redirect after Node’s own fetch has installed its dispatcher (openid-client’s refresh uses it)', async () => {
    const other = await serve(() => [200, {}, 'there']);
    const first = await serve(() => [302, {location: `${other.origin}/there`}, '']);
    // In a process of its own: in this one undici 7 loaded first, and Node's fetch took its dispatcher.
    const script = [
      `await fetch(${JSON.stringify(other.origin)});`,
      `const {httpRequest} = await import(${JSON.stringify(new URL('../../src/net/http-request.ts', import.meta.url).href)});`,
      `const response = await httpRequest(${JSON.stringify(first.origin)}, {headers: {}, signal: AbortSignal.timeout(5000)});`,
      'process.stdout.write(await response.text());',
    ].join('\n');
    const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    expect(stdout).toBe('there');
  });
});
