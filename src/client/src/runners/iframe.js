// Runner of the iframe transport ("forever frame").
import { afterLoad, callbackName, retireCallback } from '../page.js';

/** iframe: a hidden iframe whose document calls parent.NAME(frame) per frame; its load event
 *  means the stream ended. */
export function runIframe(ctx) {
  const doc = globalThis.document;
  const name = callbackName('iframe');
  let done = false;
  const frame = doc.createElement('iframe');
  const finish = () => {
    done = true;
    retireCallback(name);
    frame.onload = null;
    if (frame.parentNode) frame.parentNode.removeChild(frame);
  };
  globalThis[name] = (f) => { if (!done && f && typeof f === 'object') ctx.onFrame(f); };
  frame.setAttribute('aria-hidden', 'true');
  frame.tabIndex = -1;
  frame.style.cssText = 'position:absolute;width:0;height:0;border:0;visibility:hidden';
  frame.onload = () => { if (!done) { finish(); ctx.onEnd({ eof: true }); } };
  frame.src = ctx.url({ callback: name });
  afterLoad(() => { if (!done) (doc.body || doc.documentElement).appendChild(frame); });
  return { close() { if (!done) finish(); } };
}
