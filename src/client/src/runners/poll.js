// Runner of the longpoll and poll transports: one GET of the JSON answer.
//
// Every runner gets a context {url(extra), onFrame(frame), onPoll(json), onEnd(info), fetch,
// credentials, events} and returns {close()}. It calls onFrame for stream frames, onPoll once
// for a poll answer, onEnd once when the connection is over: {eof} | {status, body,
// retryAfter} | {error}. The Subscription ignores calls from runners it has moved past.
import { httpRequest, makeAbort, readJsonSafe, retryAfterOf } from '../http.js';

/** longpoll / poll: GET the JSON answer (fetch, or XHR without fetch). */
export function runXhrPoll(ctx) {
  const ac = makeAbort();
  let stopped = false;
  httpRequest(ctx.fetch, 'GET', ctx.url(), { signal: ac.signal, credentials: ctx.credentials })
    .then((res) => {
      if (stopped) return;
      const body = readJsonSafe(res.text);
      if (res.status === 200 && body && typeof body === 'object') ctx.onPoll(body);
      else ctx.onEnd({ status: res.status, body, retryAfter: retryAfterOf(res.headers) });
    }, (err) => {
      if (!stopped) ctx.onEnd({ error: err });
    });
  return { close() { stopped = true; ac.abort(); } };
}
