import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {fetch} from 'undici';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {HubError} from '@hub/common/errors';
import {outgoingDispatcher} from '@hub/common/net/http-dispatcher';
import {namesProxy} from '@hub/common/net/proxy-environment';
import {startForwardProxy, type ForwardProxy} from '@hub/test-stack/forward-proxy';
import {closeServer} from '@hub/test-stack/identity-provider';

describe('namesProxy', () => {
  it('is true for any of the four variables, false for none or empty ones', () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'])
      expect(namesProxy({[name]: 'http://proxy:3128'})).toBe(true);
    expect(namesProxy({})).toBe(false);
    expect(namesProxy({HTTPS_PROXY: '', NO_PROXY: 'example.com'})).toBe(false);
  });
});

/** Which hosts go through the proxy: a real forwarding proxy and a real server on loopback. */
describe('outgoingDispatcher', () => {
  let proxy: ForwardProxy;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    proxy = await startForwardProxy();
    server = createServer((_req, res) => res.end('served'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await proxy.stop();
    await closeServer(server);
  });

  async function get(host: string, env: NodeJS.ProcessEnv): Promise<{body?: string; error?: string; proxied: string[]}> {
    const before = proxy.asked.length;
    try {
      const response = await fetch(`http://${host}:${port}/`, {dispatcher: outgoingDispatcher(env)});
      return {body: await response.text(), proxied: proxy.asked.slice(before)};
    } catch (error) {
      return {error: String((error as Error & {cause?: {code?: string}}).cause?.code), proxied: proxy.asked.slice(before)};
    }
  }

  it('sends other hosts through HTTP_PROXY: a name only the proxy resolves works', async () => {
    expect(await get('registry.hub.test', {HTTP_PROXY: proxy.url})).toEqual({body: 'served', proxied: [`registry.hub.test:${port}`]});
  });

  it('without a proxy, or when NO_PROXY names the host or its domain, goes directly (and the name does not resolve)', async () => {
    expect(await get('registry.hub.test', {})).toEqual({error: 'ENOTFOUND', proxied: []});
    expect(await get('registry.hub.test', {HTTP_PROXY: proxy.url, NO_PROXY: 'hub.test'})).toEqual({error: 'ENOTFOUND', proxied: []});
    expect(await get('registry.hub.test', {HTTP_PROXY: proxy.url, NO_PROXY: '*'})).toEqual({error: 'ENOTFOUND', proxied: []});
  });

  it('the lower-case variables win, as curl reads them', async () => {
    expect(await get('registry.hub.test', {HTTP_PROXY: 'http://127.0.0.1:1', http_proxy: proxy.url})).toMatchObject({body: 'served'});
    expect(await get('registry.hub.test', {HTTP_PROXY: proxy.url, no_proxy: 'hub.test', NO_PROXY: ''})).toMatchObject({error: 'ENOTFOUND'});
  });

  it('reads a proxy named without a scheme as an http proxy, as curl does', async () => {
    expect(await get('registry.hub.test', {HTTP_PROXY: proxy.url.replace('http://', '')})).toMatchObject({body: 'served'});
  });

  it.each(['not a url', 'ftp://user:s3cret@proxy.example.com', 'socks5://proxy.example.com:1080'])(
    'refuses %j, naming the variable, never its value',
    (value) => {
      for (const name of ['HTTPS_PROXY', 'http_proxy']) {
        const refusal = (() => {
          try {
            outgoingDispatcher({[name]: value});
          } catch (error) {
            return error as HubError;
          }
        })();
        expect(refusal).toBeInstanceOf(HubError);
        expect(refusal).toMatchObject({
          code: 'invalid_proxy',
          exit: 2,
          message: `${name} is not a proxy URL; set it to http://HOST:PORT (or https://, or unset it).`,
        });
      }
    },
  );

  it.each(['127.0.0.1', 'localhost', '127.1.2.3'])('never proxies loopback (%s), whatever NO_PROXY says', async (host) => {
    for (const noProxy of [undefined, '', 'example.com']) {
      const result = await get(host, {
        HTTP_PROXY: proxy.url,
        HTTPS_PROXY: proxy.url,
        ...(noProxy === undefined ? {} : {NO_PROXY: noProxy}),
      });
      // The server listens on 127.0.0.1 only: 127.1.2.3 is refused, but directly, not by the proxy.
      expect(result).toEqual(host === '127.1.2.3' ? {error: 'ECONNREFUSED', proxied: []} : {body: 'served', proxied: []});
    }
  });
});
