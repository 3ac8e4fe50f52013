// Runner of the sse transport with the browser's EventSource.
import { parseFrame } from '../parsers/frame.js';

const FRAME_EVENTS = ['hello', 'message', 'heartbeat', 'gap', 'closed', 'deleted', 'reconnect'];

/** sse with EventSource. Frames arrive as named events: the frame types plus any message
 *  event names given in ctx.events (EventSource has no wildcard listener). The first error
 *  ends it: the Subscription reconnects itself, with backoff and an explicit cursor. */
export function runEventSource(ctx) {
  const es = new globalThis.EventSource(ctx.url(), { withCredentials: ctx.credentials === 'include' });
  let done = false;
  const onEvent = (ev) => {
    if (done) return;
    const frame = parseFrame(ev.data);
    if (frame) ctx.onFrame(frame);
  };
  for (const n of FRAME_EVENTS.concat(ctx.events || [])) es.addEventListener(n, onEvent);
  es.onerror = () => {
    if (done) return;
    done = true;
    es.close();
    ctx.onEnd({ eof: true });
  };
  return { close() { done = true; es.close(); } };
}
