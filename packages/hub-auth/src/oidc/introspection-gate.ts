import {isIPv6} from 'node:net';

/**
 * Who gets to ask the identity provider about a token, and when. Introspection is the one thing
 * a stranger can make hub-auth do at the provider's expense, so calls are bounded (a few at once,
 * a bounded queue), shared out in turn between client addresses (one address flooding hub-auth
 * with junk waits behind everyone else instead of taking every slot), and paused for a moment
 * after the provider failed (closed: no token passes while paused).
 */

export interface GateLimits {
  /** Calls under way at once. */
  maxConcurrent: number;
  /** Calls one client (address) may have under way or waiting; more are refused at once. */
  perClient: number;
  /** Calls waiting for a slot, from all clients together; more are refused at once. */
  maxQueued: number;
  /** How long a call waits for a slot before it is refused. */
  maxWaitMs: number;
  /** After a failed call, how long further calls fail fast without reaching the provider. */
  cooldownMs: number;
}

export const DEFAULT_GATE_LIMITS: Omit<GateLimits, 'maxWaitMs'> = {maxConcurrent: 32, perClient: 16, maxQueued: 512, cooldownMs: 2000};

/** The provider could not be asked (down, slow, broken): not the user's fault. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

/** hub-auth itself is too busy to ask the provider now: load, not a broken provider. */
export class OverloadError extends Error {
  override name = 'OverloadError';

  constructor(
    message: string,
    /** 'client': this client asks too much at once (429); 'service': everyone together does (503). */
    readonly who: 'client' | 'service',
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}

interface Waiter {
  start(): void;
  timer: NodeJS.Timeout;
}

export interface IntrospectionGate {
  run<T>(client: string, call: () => Promise<T>): Promise<T>;
}

export function introspectionGate(limits: GateLimits): IntrospectionGate {
  let running = 0;
  let queued = 0;
  let pausedUntil = 0;
  /** Per client: calls running or waiting. */
  const held = new Map<string, number>();
  /** Per client: calls running. */
  const busy = new Map<string, number>();
  // Insertion order is the turn order: a client served goes to the back.
  const waiting = new Map<string, Waiter[]>();

  /** The next turn: the waiting client with the fewest calls running, the longest-waiting among equals. */
  function nextClient(): string | undefined {
    let chosen: string | undefined;
    let least = Infinity;
    for (const client of waiting.keys()) {
      const calls = busy.get(client) ?? 0;
      if (calls < least) [chosen, least] = [client, calls];
      if (calls === 0) break;
    }
    return chosen;
  }

  function release(): void {
    const client = nextClient();
    if (client === undefined) {
      running--;
      return;
    }
    const queue = waiting.get(client)!;
    const waiter = queue.shift()!;
    waiting.delete(client);
    if (queue.length > 0) waiting.set(client, queue);
    queued--;
    clearTimeout(waiter.timer);
    waiter.start(); // the slot passes on: `running` stays as it is
  }

  function slot(client: string): Promise<void> {
    if (running < limits.maxConcurrent) {
      running++;
      return Promise.resolve();
    }
    if (queued >= limits.maxQueued) {
      return Promise.reject(
        new OverloadError('hub-auth is busy: too many token checks are waiting for the identity provider; try again shortly', 'service'),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: resolve,
        timer: setTimeout(() => {
          const queue = waiting.get(client)!;
          queue.splice(queue.indexOf(waiter), 1);
          if (queue.length === 0) waiting.delete(client);
          queued--;
          reject(
            new OverloadError(
              'hub-auth is busy: the token check waited too long for its turn at the identity provider; try again shortly',
              'service',
            ),
          );
        }, limits.maxWaitMs),
      };
      const queue = waiting.get(client);
      if (queue) queue.push(waiter);
      else waiting.set(client, [waiter]);
      queued++;
    });
  }

  return {
    async run(client, call) {
      if (Date.now() < pausedUntil) throw new UpstreamError('the identity provider failed just now; not asking again yet');
      const key = clientKey(client);
      const mine = held.get(key) ?? 0;
      if (mine >= limits.perClient) {
        throw new OverloadError(
          'too many token checks from your address are already waiting for the identity provider; try again shortly',
          'client',
        );
      }
      count(held, key, +1);
      try {
        await slot(key);
        count(busy, key, +1);
        try {
          // The provider may have failed while this call waited for its turn.
          if (Date.now() < pausedUntil) throw new UpstreamError('the identity provider failed just now; not asking again yet');
          try {
            return await call();
          } catch (error) {
            if (error instanceof UpstreamError) pausedUntil = Date.now() + limits.cooldownMs;
            throw error;
          }
        } finally {
          count(busy, key, -1);
          release();
        }
      } finally {
        count(held, key, -1);
      }
    },
  };
}

function count(counts: Map<string, number>, key: string, change: number): void {
  const value = (counts.get(key) ?? 0) + change;
  if (value === 0) counts.delete(key);
  else counts.set(key, value);
}

/**
 * The unit of fairness: an IPv4 address, or an IPv6 /64 — one machine gets a whole /64 and could
 * otherwise take as many turns as it has addresses.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
