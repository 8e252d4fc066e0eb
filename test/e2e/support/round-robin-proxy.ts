import {createServer, request, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {closeServer} from './identity-provider.js';

/** A load balancer on loopback: each request goes to the next target in turn. */
export interface RoundRobinProxy {
  url: string;
  /** Requests sent to each target, by target URL. */
  counts: Map<string, number>;
  stop(): Promise<void>;
}

export async function startRoundRobinProxy(targets: string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const counts = new Map(targets.map((t) => [t, 0]));
  const server: Server = createServer((req, res) => {
    const target = new URL(targets[next++ % targets.length]!);
    counts.set(target.origin, (counts.get(target.origin) ?? 0) + 1);
    const upstream = request(
      {host: target.hostname, port: target.port, method: req.method, path: req.url, headers: {...req.headers, host: target.host}},
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts, stop: () => closeServer(server)};
}
