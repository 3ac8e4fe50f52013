// What the runners and tab sharing need from the page: random ids, one-off global callbacks,
// and "after the load event". Everything is looked up on globalThis when used, so a missing
// document (node, workers) is noticed then.

let callbackCounter = 0;

/** A random token (crypto.getRandomValues where available), base 36. */
export function randomId() {
  const c = globalThis.crypto;
  if (c && c.getRandomValues) {
    const a = new Uint32Array(2);
    c.getRandomValues(a);
    return a[0].toString(36) + a[1].toString(36);
  }
  return Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
}

/** A global function name for a jsonp/iframe callback, unique across tabs too: identical URLs
 *  from two tabs would be queued behind each other by the browser. */
export function callbackName(kind) {
  return '__holdfast_' + kind + randomId() + '_' + (++callbackCounter);
}

/** Replaces global callback `name` by a no-op (a late call must not throw) and deletes it
 *  two minutes later. */
export function retireCallback(name) {
  globalThis[name] = () => {};
  setTimeout(() => {
    try { delete globalThis[name]; } catch { globalThis[name] = undefined; }
  }, 120000);
}

/** Runs fn once the document has loaded. A <script> or <iframe> added before the load event
 *  delays it, and a held poll or a forever frame would delay it for good (the page would look
 *  like it is still loading), so those transports start after load. */
export function afterLoad(fn) {
  const doc = globalThis.document;
  if (!doc || doc.readyState === 'complete') { fn(); return; }
  let done = false;
  globalThis.addEventListener('load', () => { if (!done) { done = true; setTimeout(fn, 0); } });
}
