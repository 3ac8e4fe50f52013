// The bounded "seen" set that keeps a resent message from being shown twice (pure).

/** A bounded "seen" set: seen(key) returns true if key is among the last `size` keys
 *  recorded, else records it and returns false; has(key) only looks. Default size 1000. */
export function createDedupe(size) {
  const limit = Math.max(1, size || 1000);
  const set = new Set();
  const order = [];
  return {
    seen(key) {
      if (set.has(key)) return true;
      set.add(key);
      order.push(key);
      if (order.length > limit) set.delete(order.shift());
      return false;
    },
    has: (key) => set.has(key),
    get size() { return set.size; }
  };
}
