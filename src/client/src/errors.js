// Errors the client reports, and calling user callbacks without letting them break the client.

/** An Error named 'HoldfastError' with extra fields (status, code, fatal, ...). */
export function holdfastError(message, fields) {
  const e = new Error(message);
  e.name = 'HoldfastError';
  Object.assign(e, fields || {});
  return e;
}

/** Calls a user callback; an exception it throws is rethrown from a timer (so it is reported
 *  as uncaught) instead of unwinding the client's state machine. */
export function safeCall(fn, self, args) {
  if (typeof fn !== 'function') return;
  try { fn.apply(self, args); } catch (e) { setTimeout(() => { throw e; }, 0); }
}
