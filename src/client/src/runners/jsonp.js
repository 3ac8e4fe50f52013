// Runner of the jsonp transport: a <script> tag calling a one-off global function.
import { afterLoad, callbackName, retireCallback } from '../page.js';

/** jsonp: the status of a failed script load is not readable, so failures are reported
 *  without one. */
export function runJsonp(ctx) {
  const doc = globalThis.document;
  const name = callbackName('jsonp');
  const script = doc.createElement('script');
  let settled = false;
  const cleanup = () => {
    settled = true;
    retireCallback(name);
    if (script.parentNode) script.parentNode.removeChild(script);
  };
  globalThis[name] = (body) => {
    if (settled) return;
    cleanup();
    if (body && typeof body === 'object') ctx.onPoll(body);
    else ctx.onEnd({ error: new Error('jsonp: bad answer') });
  };
  script.async = true;
  script.src = ctx.url({ callback: name });
  script.onerror = () => { if (!settled) { cleanup(); ctx.onEnd({ error: new Error('jsonp: load failed') }); } };
  script.onload = () => { if (!settled) { cleanup(); ctx.onEnd({ error: new Error('jsonp: no callback') }); } };
  afterLoad(() => { if (!settled) (doc.head || doc.documentElement).appendChild(script); });
  return { close() { if (!settled) cleanup(); } };
}
