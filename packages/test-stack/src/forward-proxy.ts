import {createServer, request, type Server} from 'node:http';
import {connect, type AddressInfo} from 'node:net';
import {closeServer} from './identity-provider.js';

/**
 * A company's forwarding proxy on loopback: CONNECT tunnels for https, forwarded requests for
 * http. It alone knows the test's `*.hub.test` names (they point at loopback), as a proxy alone
 * resolves the outside world's names on a network behind one: without it they do not resolve.
 */
export const PROXIED_DOMAIN = 'hub.test';

export interface ForwardProxy {
  url: string;
  /** Every `host:port` the proxy was asked for, in order. */
  asked: string[];
  stop(): Promise<void>;
}

export async function startForwardProxy(): Promise<ForwardProxy> {
  const asked: string[] = [];
  const resolve = (hostname: string) => (hostname === PROXIED_DOMAIN || hostname.endsWith(`.${PROXIED_DOMAIN}`) ? '127.0.0.1' : hostname);
  const server: Server = createServer((req, res) => {
    // A forwarded http request names its absolute URL.
    const target = URL.canParse(req.url ?? '') ? new URL(req.url!) : undefined;
    if (!target) return void res.writeHead(400).end('not a proxy request');
    asked.push(target.host);
    const upstream = request(
      {
        host: resolve(target.hostname),
        port: target.port || 80,
        method: req.method,
        path: target.pathname + target.search,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, client, head) => {
    const target = new URL(`http://${req.url}`);
    asked.push(target.host);
    const upstream = connect(Number(target.port || 443), resolve(target.hostname), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    const drop = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.once('error', () => (client.writable ? client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n') : drop()));
    client.once('error', drop);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked, stop: () => closeServer(server)};
}
