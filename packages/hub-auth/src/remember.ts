/** What remembers answers by key: a Map, a WeakMap or an LRUCache. */
interface AnswerStore<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: NoInfer<V>): unknown;
}

/**
 * The answer kept in `store` for `key`, worked out by `compute` and kept the first time. The
 * token route remembers what it works out per access token, scope text and rule, because docker
 * asks the same thing many times over during a push.
 */
export function remembered<K, V>(store: AnswerStore<K, V>, key: K, compute: () => NoInfer<V>): V {
  let value = store.get(key);
  if (value === undefined) {
    value = compute();
    store.set(key, value);
  }
  return value;
}
