import {describe, expect, it} from 'vitest';
import {clientKey, introspectionGate, OverloadError, UpstreamError, type GateLimits} from '../../../src/oidc/introspection-gate.js';

const limits: GateLimits = {maxConcurrent: 2, perClient: 3, maxQueued: 4, maxWaitMs: 60_000, cooldownMs: 60_000};

/** A call that finishes when the test says so, and records when it started. */
function controlled(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    call: async () => {
      log.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('introspectionGate', () => {
  it('gives the next turn to the waiting client with the fewest calls running, not to the first to arrive', async () => {
    const gate = introspectionGate(limits);
    const started: string[] = [];
    const calls = ['a1', 'a2', 'a3', 'b1', 'c1'].map((name) => ({name, ...controlled(started, name)}));
    const results = calls.map(({name, call}) => gate.run(`10.0.0.${name[0]!.charCodeAt(0)}`, call));
    await settle();
    expect(started).toEqual(['a1', 'a2']); // both slots; a3, b1 and c1 wait
    calls[0]!.finish();
    await settle();
    // a3 came first, but a still has a2 running and b has nothing: b goes first.
    expect(started).toEqual(['a1', 'a2', 'b1']);
    calls[3]!.finish();
    await settle();
    expect(started).toEqual(['a1', 'a2', 'b1', 'c1']);
    for (const {finish} of calls) finish();
    await Promise.all(results);
    expect(started).toEqual(['a1', 'a2', 'b1', 'c1', 'a3']);
  });

  it('refuses a client beyond its share at once (429), and everyone beyond the queue (503)', async () => {
    const gate = introspectionGate(limits);
    const log: string[] = [];
    const held = Array.from({length: 3}, (_, i) => controlled(log, `a${i}`));
    const running = held.map(({call}) => gate.run('10.0.0.1', call));
    await expect(gate.run('10.0.0.1', async () => 'more')).rejects.toMatchObject({name: 'OverloadError', who: 'client'});
    const others = Array.from({length: 3}, (_, i) => controlled(log, `o${i}`));
    const queued = others.map(({call}, i) => gate.run(`10.0.1.${i}`, call));
    // 2 running, 1 + 3 waiting: the queue is full.
    const refused = gate.run('10.0.2.1', async () => 'late');
    await expect(refused).rejects.toBeInstanceOf(OverloadError);
    await expect(refused).rejects.toMatchObject({who: 'service'});
    for (const {finish} of [...held, ...others]) finish();
    await Promise.all([...running, ...queued]);
  });

  it('refuses a call that waited longer than maxWaitMs, and pauses after the provider failed', async () => {
    const gate = introspectionGate({...limits, maxConcurrent: 1, maxWaitMs: 10});
    const log: string[] = [];
    const slow = controlled(log, 'slow');
    const running = gate.run('10.0.0.1', slow.call);
    await expect(gate.run('10.0.0.2', async () => 'waited')).rejects.toMatchObject({who: 'service'});
    slow.finish();
    await running;
    await expect(
      gate.run('10.0.0.3', async () => {
        throw new UpstreamError('down');
      }),
    ).rejects.toThrow('down');
    let asked = false;
    await expect(gate.run('10.0.0.4', async () => (asked = true))).rejects.toBeInstanceOf(UpstreamError);
    expect(asked).toBe(false);
  });

  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('takes %s as the client %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});
