// The receiver's bounded memories (cookies of proven gateways, rate-limit buckets, epochs per
// address, tombstones of deleted mappings) are Maps whose insertion order is their age: past
// their bound they forget the oldest key.

/**
 * Sets `key` to `value` as the newest key of `map` and, once that takes `map` past `max` keys,
 * forgets its oldest one. Returns the key forgotten, or undefined.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): K | undefined {
  map.delete(key);
  map.set(key, value);
  if (map.size <= max) return undefined;
  const oldest = map.keys().next().value!;
  map.delete(oldest);
  return oldest;
}
