// Reconnect backoff: exponential ceiling with a cap, "full jitter" delays (pure).

/** Upper bound of the attempt-th retry delay (attempt 0 = first retry), in ms:
 *  min(cap, base * 2^attempt). Defaults: base 1000 ms, cap 30000 ms. */
export function backoffCeiling(attempt, options) {
  const base = options && options.base != null ? options.base : 1000;
  const cap = options && options.cap != null ? options.cap : 30000;
  const n = Math.max(0, Math.floor(attempt) || 0);
  return Math.min(cap, base * Math.pow(2, Math.min(n, 60)));
}

/** "Full jitter" backoff: a whole number of ms, uniform in [0, backoffCeiling(attempt)).
 *  options.random (default Math.random) is injectable for tests. */
export function backoffDelay(attempt, options) {
  const random = (options && options.random) || Math.random;
  let r = Number(random());
  if (!(r >= 0)) r = 0;
  if (r >= 1) r = 1 - 1e-12;
  return Math.floor(r * backoffCeiling(attempt, options));
}
