import {createServer, type AddressInfo, type Server} from 'node:net';

/** A loopback port free right now, for programs that must be told their port up front. */
export function freePort(): Promise<number> {
  return freeLoopbackPort(0);
}

/** Ports fetch refuses (the WHATWG "bad port" list) that need no privilege, in the order tried. */
const BLOCKED_PORTS = [10080, 6000, 6665, 5060, 4190];

/** A free port among those browsers block (10080 first), for a registry docker reaches and fetch does not. */
export async function freeBlockedPort(): Promise<number> {
  for (const port of BLOCKED_PORTS) {
    try {
      return await freeLoopbackPort(port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
  throw new Error(`none of the ports ${BLOCKED_PORTS.join(', ')} is free`);
}

function freeLoopbackPort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Polls `check` until it holds; fails with `what` and the last error after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000}s${last ? `: ${(last as Error).message}` : ''}`);
}

/** Starts `server` on 127.0.0.1 (port 0: any free one), rejecting when the port is taken; resolves with its port. */
export function listenOnLoopback(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Two servers, on a port P and on P1 (P followed by the digit 1): glued onto `http://127.0.0.1:P`
 * as text, a link that starts with "1" names port P1 (the string-concatenation attack). Random
 * ports P are tried until both start; each `start` rejects when its port is taken.
 */
export async function onPortsPAndP1<AtP, AtP1 extends {close(): Promise<void>}>(
  startAtP1: (port: number) => Promise<AtP1>,
  startAtP: (port: number) => Promise<AtP>,
): Promise<{atP: AtP; atP1: AtP1}> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 2000 + Math.floor(Math.random() * 4500);
    const atP1 = await startAtP1(port * 10 + 1).catch(() => undefined);
    if (!atP1) continue;
    const atP = await startAtP(port).catch(() => undefined);
    if (atP) return {atP, atP1};
    await atP1.close();
  }
  throw new Error('found no free pair of ports P and P1');
}
