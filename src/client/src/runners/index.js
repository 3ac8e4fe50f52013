// The transports: their names, which runner serves each, and the order 'auto' tries them in.
import { runEventSource } from './event_source.js';
import { runFetchStream } from './fetch_stream.js';
import { runIframe } from './iframe.js';
import { runJsonp } from './jsonp.js';
import { runXhrPoll } from './poll.js';

/** Every transport name the server speaks (the `transport=` values). */
export const TRANSPORT_NAMES = ['sse', 'longpoll', 'jsonp', 'iframe', 'multipart', 'ndjson', 'poll'];

/** Transports answered once per request (the Subscription requests again). */
export const POLL_LIKE = new Set(['longpoll', 'jsonp', 'poll']);

/** Transports whose failures carry no HTTP status we can read. */
export const OPAQUE = new Set(['sse', 'iframe', 'jsonp']);

/** transport name → runner(ctx) → {close()}. */
export const RUNNERS = {
  longpoll: runXhrPoll,
  poll: runXhrPoll,
  jsonp: runJsonp,
  iframe: runIframe,
  sse: (ctx) => (globalThis.EventSource ? runEventSource(ctx) : runFetchStream(ctx, 'sse')),
  ndjson: (ctx) => runFetchStream(ctx, 'ndjson'),
  multipart: (ctx) => runFetchStream(ctx, 'multipart')
};

/** The transports 'auto' tries, in order, given what the environment `env` (a global object)
 *  has: sse with EventSource, longpoll with fetch or XHR, jsonp with a document. */
export function autoChain(env) {
  const chain = [];
  if (env.EventSource) chain.push('sse');
  if (env.fetch || env.XMLHttpRequest) chain.push('longpoll');
  if (env.document) chain.push('jsonp');
  return chain.length ? chain : ['longpoll'];
}
