/** Runs `work` for `key` unless a run for it is under way, whose outcome the caller then shares. */
export type SharedRun<K, V> = (key: K, work: () => Promise<V>) => Promise<V>;

/**
 * One run at a time per key. Docker's token requests come in bursts for one person: when what
 * they need is not remembered, or no longer (a binding read a second ago, a session's last use),
 * every request of the burst would otherwise ask the store or the provider for the same answer.
 */
export function sharedRuns<K, V>(): SharedRun<K, V> {
  const running = new Map<K, Promise<V>>();
  return (key, work) => {
    let run = running.get(key);
    if (!run) {
      run = work().finally(() => running.delete(key));
      running.set(key, run);
    }
    return run;
  };
}
