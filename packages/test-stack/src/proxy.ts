import {createServer, request, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {PassThrough, Transform} from 'node:stream';
import {closeServer} from './identity-provider.js';

/**
 * A load balancer on loopback: each request goes to the next target in turn. It can also play a
 * failing service: refuse connections, answer 500, or answer late; or a slow network path.
 */
export type ProxyMode = {kind: 'pass'} | {kind: 'down'} | {kind: 'error'; status: number} | {kind: 'slow'; delayMs: number};

export interface Proxy {
  url: string;
  /** Requests sent to each target, by target URL. */
  counts: Map<string, number>;
  setMode(mode: ProxyMode): void;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** Each request's body and each answer's body at most this fast: a slow link, for long transfers. */
  bytesPerSecond?: number;
  /** Pass the client's Host header on, for a target that builds its URLs from it (the registry's upload locations). */
  keepHost?: boolean;
  port?: number;
}

export async function startProxy(targets: string[], options: ProxyOptions = {}): Promise<Proxy> {
  const link = () => (options.bytesPerSecond ? throttled(options.bytesPerSecond) : new PassThrough());
  let next = 0;
  let mode: ProxyMode = {kind: 'pass'};
  const counts = new Map(targets.map((t) => [t, 0]));
  const server: Server = createServer(async (req, res) => {
    if (mode.kind === 'down') return void req.socket.destroy();
    if (mode.kind === 'error') return void res.writeHead(mode.status, {'content-type': 'text/plain'}).end('injected failure');
    if (mode.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, (mode as {delayMs: number}).delayMs));
    const target = new URL(targets[next++ % targets.length]!);
    counts.set(target.origin, (counts.get(target.origin) ?? 0) + 1);
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: {...req.headers, host: options.keepHost ? req.headers.host : target.host},
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(link()).pipe(res);
      },
    );
    upstream.once('error', () => res.writeHead(502).end());
    req.pipe(link()).pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    setMode: (m) => {
      mode = m;
    },
    stop: () => closeServer(server),
  };
}

/** Holds each chunk for as long as sending it takes at that rate. */
function throttled(bytesPerSecond: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      setTimeout(() => done(null, chunk), (chunk.length / bytesPerSecond) * 1000);
    },
  });
}
