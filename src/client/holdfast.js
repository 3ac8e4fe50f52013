/*! Holdfast browser client — dependency-free; see docs/client.md.
 *
 * Loading: a plain <script src="/holdfast.js"> sets `globalThis.Holdfast`; ES modules import
 * `holdfast.mjs` (which imports this file and re-exports the same object); CommonJS (node
 * tests) gets it from `module.exports`. This file is the one source of logic.
 *
 * Sections: 1 pure helpers (cursor, backoff, parsers, dedupe, URLs) — no DOM, no timers,
 * unit-tested by tests/client/; 2 I/O runners, one per transport; 3 tab sharing
 * (leader election + BroadcastChannel); 4 Subscription (the reconnect state machine);
 * 5 Client (configuration, publish, pagehide).
 */
(function (root, factory) {
  'use strict';
  var api = factory(root);
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  if (root) root.Holdfast = api;
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this,
function (G) {
  'use strict';

  var VERSION = '1.0.0';

  // ---------------------------------------------------------------------------------------
  // 1. Pure helpers
  // ---------------------------------------------------------------------------------------

  var CHANNEL_RE = /^[A-Za-z0-9_.~@-]{1,128}$/;
  var EPOCH_RE = /^[A-Za-z0-9_-]{1,32}$/;
  var SEQ_RE = /^[0-9]{1,20}$/;
  var CALLBACK_RE = /^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$/;

  /** True for a valid channel name: 1–128 chars of [A-Za-z0-9_.~@-]. */
  function isValidChannel(name) {
    return typeof name === 'string' && CHANNEL_RE.test(name);
  }

  /** A list of channel names from "a", "a,b" or ["a","b"]; throws TypeError on a bad name. */
  function normalizeChannels(channels) {
    var list = Array.isArray(channels) ? channels.slice() : String(channels).split(',');
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var name = String(list[i]).trim();
      if (!isValidChannel(name)) throw new TypeError('Holdfast: bad channel name ' + JSON.stringify(name));
      if (out.indexOf(name) < 0) out.push(name);
    }
    if (!out.length) throw new TypeError('Holdfast: no channel given');
    return out;
  }

  /** "EPOCH-SEQ" → {epoch, seq} (seq a decimal string without leading zeros), or null.
   *  Epochs are base64url tokens and may contain '-', so the sequence is after the last '-'. */
  function parseId(id) {
    if (typeof id !== 'string') return null;
    var dash = id.lastIndexOf('-');
    if (dash <= 0) return null;
    var epoch = id.slice(0, dash);
    var seq = id.slice(dash + 1);
    if (!EPOCH_RE.test(epoch) || !SEQ_RE.test(seq)) return null;
    return { epoch: epoch, seq: seq.replace(/^0+(?=\d)/, '') };
  }

  /** Compares two decimal sequence strings numerically (uint64-safe): -1, 0 or 1. */
  function compareSeq(a, b) {
    a = String(a).replace(/^0+(?=\d)/, '');
    b = String(b).replace(/^0+(?=\d)/, '');
    if (a.length !== b.length) return a.length < b.length ? -1 : 1;
    return a === b ? 0 : a < b ? -1 : 1;
  }

  /** "ch:EPOCH-SEQ,ch2:EPOCH-SEQ" → Map channel → {epoch, seq}. Empty/absent → empty Map.
   *  Throws TypeError naming the bad entry (cursors come from the server; a bad one is a bug). */
  function parseCursor(text) {
    var map = new Map();
    if (text == null || text === '') return map;
    var entries = String(text).split(',');
    for (var i = 0; i < entries.length; i++) {
      var entry = entries[i].trim();
      var colon = entry.indexOf(':');
      var name = colon > 0 ? entry.slice(0, colon) : '';
      var pos = colon > 0 ? parseId(entry.slice(colon + 1)) : null;
      if (!isValidChannel(name) || !pos) {
        throw new TypeError('Holdfast: bad cursor entry ' + (i + 1) + ' ' + JSON.stringify(entry));
      }
      map.set(name, pos);
    }
    return map;
  }

  function toCursor(c) {
    if (c instanceof Map) return c;
    return parseCursor(c);
  }

  /** Map → "ch:EPOCH-SEQ,..."; entries for `order` (channel list) first, in that order. */
  function formatCursor(cursor, order) {
    cursor = toCursor(cursor);
    var parts = [];
    var done = {};
    (order || []).forEach(function (ch) {
      var p = cursor.get(ch);
      if (p && !done[ch]) { parts.push(ch + ':' + p.epoch + '-' + p.seq); done[ch] = true; }
    });
    cursor.forEach(function (p, ch) {
      if (!done[ch]) parts.push(ch + ':' + p.epoch + '-' + p.seq);
    });
    return parts.join(',');
  }

  /** A new cursor: `base` with every entry of `update` applied. Channels only in `base` stay.
   *  monotonic=false (cursors the server sends: hello, poll answers, reconnect) — the update
   *  wins, even backwards (the server knows best, e.g. after a gap with reason "unknown").
   *  monotonic=true (positions learnt from message ids, other tabs) — within one epoch the
   *  higher sequence wins; a different epoch replaces. */
  function mergeCursor(base, update, options) {
    var monotonic = !!(options && options.monotonic);
    var out = new Map(toCursor(base));
    toCursor(update).forEach(function (p, ch) {
      var old = out.get(ch);
      if (monotonic && old && old.epoch === p.epoch && compareSeq(old.seq, p.seq) > 0) return;
      out.set(ch, { epoch: p.epoch, seq: p.seq });
    });
    return out;
  }

  /** Advances one channel's entry to message `id` (monotonic). Bad ids leave it unchanged. */
  function advanceCursor(cursor, channel, id) {
    var pos = parseId(id);
    if (!pos || !isValidChannel(channel)) return new Map(toCursor(cursor));
    var single = new Map();
    single.set(channel, pos);
    return mergeCursor(cursor, single, { monotonic: true });
  }

  /** True when every channel of `channels` has an entry in `cursor`. */
  function cursorCovers(cursor, channels) {
    cursor = toCursor(cursor);
    return channels.every(function (ch) { return cursor.has(ch); });
  }

  /** Upper bound of the attempt-th retry delay (attempt 0 = first retry), in ms:
   *  min(cap, base * 2^attempt). Defaults: base 1000 ms, cap 30000 ms. */
  function backoffCeiling(attempt, options) {
    var base = options && options.base != null ? options.base : 1000;
    var cap = options && options.cap != null ? options.cap : 30000;
    var n = Math.max(0, Math.floor(attempt) || 0);
    return Math.min(cap, base * Math.pow(2, Math.min(n, 60)));
  }

  /** "Full jitter" backoff: a whole number of ms, uniform in [0, backoffCeiling(attempt)).
   *  options.random (default Math.random) is injectable for tests. */
  function backoffDelay(attempt, options) {
    var random = (options && options.random) || Math.random;
    var r = Number(random());
    if (!(r >= 0)) r = 0;
    if (r >= 1) r = 1 - 1e-12;
    return Math.floor(r * backoffCeiling(attempt, options));
  }

  /** Incremental text/event-stream parser (the HTML spec's algorithm, minus I/O).
   *  push(text) → array of {type, data, id}; `id` is the last event id in force (it persists
   *  across events, as in EventSource); `parser.retry` holds the last `retry:` value (ms) or
   *  null. Handles CRLF/CR/LF, a CR at the end of a chunk followed by LF in the next,
   *  comments, multi-line data, a leading BOM. */
  function createSseParser() {
    var buf = '';
    var skipLF = false;
    var first = true;
    var data = [];
    var event = '';
    var lastId = '';
    var parser = { retry: null, push: push };

    function field(line, out) {
      if (line === '') {
        if (data.length) {
          out.push({ type: event || 'message', data: data.join('\n'), id: lastId });
        }
        data = []; event = '';
        return;
      }
      if (line.charAt(0) === ':') return;
      var colon = line.indexOf(':');
      var name = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.charAt(0) === ' ') value = value.slice(1);
      if (name === 'data') data.push(value);
      else if (name === 'event') event = value;
      else if (name === 'id') { if (value.indexOf('\0') < 0) lastId = value; }
      else if (name === 'retry') { if (/^\d+$/.test(value)) parser.retry = parseInt(value, 10); }
    }

    function push(text) {
      var out = [];
      if (first && text.length) { if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); first = false; }
      if (!text.length) return out;
      if (skipLF && text.charAt(0) === '\n') text = text.slice(1);
      skipLF = false;
      buf += text;
      var start = 0;
      for (var i = 0; i < buf.length; i++) {
        var c = buf.charAt(i);
        if (c !== '\r' && c !== '\n') continue;
        field(buf.slice(start, i), out);
        if (c === '\r') {
          if (i + 1 < buf.length) { if (buf.charAt(i + 1) === '\n') i++; }
          else skipLF = true;
        }
        start = i + 1;
      }
      buf = buf.slice(start);
      return out;
    }
    return parser;
  }

  /** Incremental newline-delimited splitter for ndjson: push(text) → complete non-blank lines
   *  (a trailing CR removed); flush() → the unterminated rest, if any (at end of stream). */
  function createLineParser() {
    var buf = '';
    function clean(line) { return line.charAt(line.length - 1) === '\r' ? line.slice(0, -1) : line; }
    return {
      push: function (text) {
        buf += text;
        var lines = buf.split('\n');
        buf = lines.pop();
        return lines.map(clean).filter(function (l) { return l.trim() !== ''; });
      },
      flush: function () {
        var rest = clean(buf);
        buf = '';
        return rest.trim() === '' ? [] : [rest];
      }
    };
  }

  /** The boundary parameter of a multipart Content-Type, or null. */
  function multipartBoundary(contentType) {
    var m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
    return m ? (m[1] || m[2]) : null;
  }

  function parsePartHeaders(text) {
    var headers = {};
    text.split('\r\n').forEach(function (line) {
      var colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    });
    return headers;
  }

  /** Incremental RFC 2046 multipart body parser (for multipart/x-mixed-replace streams).
   *  push(text) → array of complete parts {headers, body}; a part is complete when the
   *  delimiter after it ("\r\n--BOUNDARY") has arrived. `done` becomes true at the close
   *  delimiter ("--BOUNDARY--"). The preamble before the first boundary is skipped. */
  function createMultipartParser(boundary) {
    if (!boundary) throw new TypeError('Holdfast: multipart boundary required');
    var dash = '--' + boundary;
    var delim = '\r\n' + dash;
    var buf = '';
    var state = 'preamble'; // preamble | after | part | done
    var atStart = true;     // nothing consumed yet: the body may begin with "--BOUNDARY"
    var parser = { done: false, push: push };

    function step(out) {
      if (state === 'preamble') {
        if (atStart && buf.length < dash.length && dash.indexOf(buf) === 0) return false;
        if (atStart && buf.slice(0, dash.length) === dash) {
          buf = buf.slice(dash.length); state = 'after'; atStart = false; return true;
        }
        var at = buf.indexOf(delim);
        if (at >= 0) { buf = buf.slice(at + delim.length); state = 'after'; atStart = false; return true; }
        if (buf.length > delim.length) { buf = buf.slice(buf.length - delim.length); atStart = false; }
        return false;
      }
      if (state === 'after') {
        var j = 0;
        while (j < buf.length && (buf.charAt(j) === ' ' || buf.charAt(j) === '\t')) j++;
        if (buf.length < j + 2) return false;
        var two = buf.slice(j, j + 2);
        if (two === '--') { state = 'done'; parser.done = true; buf = ''; return false; }
        if (two === '\r\n') { buf = buf.slice(j + 2); state = 'part'; return true; }
        state = 'preamble'; // not a real delimiter line: look for the next one
        return true;
      }
      if (state === 'part') {
        var end = buf.indexOf(delim);
        if (end < 0) return false;
        var raw = buf.slice(0, end);
        buf = buf.slice(end + delim.length);
        state = 'after';
        var split = raw.slice(0, 2) === '\r\n' ? 0 : raw.indexOf('\r\n\r\n');
        if (split < 0) out.push({ headers: {}, body: raw });
        else {
          var bodyAt = split === 0 ? 2 : split + 4;
          out.push({ headers: parsePartHeaders(raw.slice(0, split)), body: raw.slice(bodyAt) });
        }
        return true;
      }
      return false;
    }

    function push(text) {
      var out = [];
      if (state === 'done') return out;
      buf += text;
      while (step(out)) { /* consume what is complete */ }
      return out;
    }
    return parser;
  }

  /** JSON text → frame object, or null when it is not a JSON object. */
  function parseFrame(text) {
    try {
      var v = JSON.parse(text);
      return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch (e) {
      return null;
    }
  }

  /** A bounded "seen" set: seen(key) returns true if key is among the last `size` keys
   *  recorded, else records it and returns false. Used to drop resent messages. */
  function createDedupe(size) {
    var limit = Math.max(1, size || 1000);
    var set = new Set();
    var order = [];
    return {
      seen: function (key) {
        if (set.has(key)) return true;
        set.add(key);
        order.push(key);
        if (order.length > limit) set.delete(order.shift());
        return false;
      },
      has: function (key) { return set.has(key); },
      get size() { return set.size; }
    };
  }

  /** URL of a subscribe request: `<mount>/<ch,ch2>?k=v&...` (undefined/null values left out). */
  function buildSubscribeUrl(dataMount, channels, params) {
    var url = String(dataMount).replace(/\/+$/, '') + '/' + channels.join(',');
    var query = [];
    Object.keys(params || {}).forEach(function (k) {
      var v = params[k];
      if (v === undefined || v === null || v === '') return;
      query.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
    });
    return query.length ? url + '?' + query.join('&') : url;
  }

  /** The transports 'auto' tries, in order, given what the environment has. */
  function autoChain(env) {
    var chain = [];
    if (env.EventSource) chain.push('sse');
    if (env.fetch || env.XMLHttpRequest) chain.push('longpoll');
    if (env.document) chain.push('jsonp');
    return chain.length ? chain : ['longpoll'];
  }

  var TRANSPORTS = ['sse', 'longpoll', 'jsonp', 'iframe', 'multipart', 'ndjson', 'poll'];
  var POLL_LIKE = { longpoll: true, jsonp: true, poll: true };
  // Transports whose failures carry no HTTP status we can read.
  var OPAQUE = { sse: true, iframe: true, jsonp: true };

  // ---------------------------------------------------------------------------------------
  // 2. I/O runners: one per transport. A runner gets a context
  //    {url(extra), onFrame(frame), onPoll(json), onEnd(info), fetch, withCredentials, events}
  //    and returns {close()}. It calls onFrame for stream frames, onPoll once for a poll answer,
  //    onEnd once when the connection is over: {eof} | {status, body, retryAfter} | {error}.
  //    The Subscription ignores calls from runners it has moved past (attempt ids).
  // ---------------------------------------------------------------------------------------

  var callbackCounter = 0;

  // Runs fn once the document has loaded. A <script> or <iframe> added before the load event
  // delays it, and a held poll or a forever frame would delay it for good (the page would
  // look like it is still loading), so those transports start after load.
  function afterLoad(fn) {
    var doc = G.document;
    if (!doc || doc.readyState === 'complete') { fn(); return; }
    var done = false;
    G.addEventListener('load', function () { if (!done) { done = true; setTimeout(fn, 0); } });
  }

  function retryAfterOf(headers) {
    var v = headers && headers.get && headers.get('Retry-After');
    var n = v ? parseInt(v, 10) : NaN;
    return isFinite(n) ? n : null;
  }

  function readJsonSafe(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  /** One HTTP request (fetch, or XHR where fetch is missing) → Promise of
   *  {status, text, headers:{get}}. Rejects on network errors and on abort. */
  function httpRequest(fetchImpl, method, url, init) {
    init = init || {};
    if (fetchImpl) {
      return fetchImpl(url, {
        method: method, headers: init.headers, body: init.body, signal: init.signal,
        credentials: init.credentials || 'same-origin', cache: 'no-store'
      }).then(function (res) {
        return res.text().then(function (text) {
          return { status: res.status, text: text, headers: res.headers };
        });
      });
    }
    return new Promise(function (resolve, reject) {
      var xhr = new G.XMLHttpRequest();
      xhr.open(method, url, true);
      if (init.credentials === 'include') xhr.withCredentials = true;
      Object.keys(init.headers || {}).forEach(function (k) { xhr.setRequestHeader(k, init.headers[k]); });
      xhr.onload = function () {
        resolve({ status: xhr.status, text: xhr.responseText,
          headers: { get: function (h) { return xhr.getResponseHeader(h); } } });
      };
      xhr.onerror = function () { reject(new Error('network error')); };
      xhr.onabort = function () { reject(new Error('aborted')); };
      if (init.signal) init.signal.addEventListener('abort', function () { xhr.abort(); });
      xhr.send(init.body == null ? null : init.body);
    });
  }

  function makeAbort() {
    return typeof AbortController !== 'undefined' ? new AbortController() : { signal: undefined, abort: function () {} };
  }

  /** longpoll / poll: GET the JSON answer. */
  function runXhrPoll(ctx) {
    var ac = makeAbort();
    var stopped = false;
    httpRequest(ctx.fetch, 'GET', ctx.url(), { signal: ac.signal, credentials: ctx.credentials })
      .then(function (res) {
        if (stopped) return;
        var body = readJsonSafe(res.text);
        if (res.status === 200 && body && typeof body === 'object') ctx.onPoll(body);
        else ctx.onEnd({ status: res.status, body: body, retryAfter: retryAfterOf(res.headers) });
      }, function (err) {
        if (!stopped) ctx.onEnd({ error: err });
      });
    return { close: function () { stopped = true; ac.abort(); } };
  }

  /** jsonp: a <script> tag calling a one-off global function. The status of a failed script
   *  load is not readable, so failures are reported without one. */
  function runJsonp(ctx) {
    var doc = G.document;
    // Unique across tabs too: identical URLs from two tabs would be queued behind each other.
    var name = '__holdfast_jsonp' + randomId() + '_' + (++callbackCounter);
    var script = doc.createElement('script');
    var settled = false;
    function cleanup() {
      settled = true;
      G[name] = function () {}; // a late answer must not throw
      setTimeout(function () { try { delete G[name]; } catch (e) { G[name] = undefined; } }, 120000);
      if (script.parentNode) script.parentNode.removeChild(script);
    }
    G[name] = function (body) {
      if (settled) return;
      cleanup();
      if (body && typeof body === 'object') ctx.onPoll(body);
      else ctx.onEnd({ error: new Error('jsonp: bad answer') });
    };
    script.async = true;
    script.src = ctx.url({ callback: name });
    script.onerror = function () { if (!settled) { cleanup(); ctx.onEnd({ error: new Error('jsonp: load failed') }); } };
    script.onload = function () { if (!settled) { cleanup(); ctx.onEnd({ error: new Error('jsonp: no callback') }); } };
    afterLoad(function () { if (!settled) (doc.head || doc.documentElement).appendChild(script); });
    return { close: function () { if (!settled) cleanup(); } };
  }

  /** sse with EventSource. Frames arrive as named events: the frame types plus any message
   *  event names given in options.events (EventSource has no wildcard listener). */
  function runEventSource(ctx) {
    var es = new G.EventSource(ctx.url(), { withCredentials: ctx.credentials === 'include' });
    var done = false;
    function onEvent(ev) {
      if (done) return;
      var frame = parseFrame(ev.data);
      if (frame) ctx.onFrame(frame);
    }
    var names = ['hello', 'message', 'heartbeat', 'gap', 'closed', 'deleted', 'reconnect'].concat(ctx.events || []);
    names.forEach(function (n) { es.addEventListener(n, onEvent); });
    es.onerror = function () {
      if (done) return;
      done = true;
      es.close(); // we reconnect ourselves, with backoff and an explicit cursor
      ctx.onEnd({ eof: true });
    };
    return { close: function () { done = true; es.close(); } };
  }

  /** Streaming fetch for ndjson, multipart and (without EventSource) sse. */
  function runFetchStream(ctx, kind) {
    var ac = makeAbort();
    var stopped = false;
    var accept = { ndjson: 'application/x-ndjson', multipart: 'multipart/x-mixed-replace', sse: 'text/event-stream' }[kind];
    ctx.fetch(ctx.url(), {
      headers: { Accept: accept }, signal: ac.signal, credentials: ctx.credentials || 'same-origin', cache: 'no-store'
    }).then(function (res) {
      if (stopped) return null;
      if (res.status !== 200) {
        return res.text().then(function (text) {
          if (!stopped) ctx.onEnd({ status: res.status, body: readJsonSafe(text), retryAfter: retryAfterOf(res.headers) });
        });
      }
      if (!res.body || !res.body.getReader) { ctx.onEnd({ error: new Error('streaming fetch unsupported'), unsupported: true }); return null; }
      var next = framer(kind, res.headers.get('Content-Type'));
      if (!next) { ctx.onEnd({ error: new Error(kind + ': no boundary') }); return null; }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      function pump() {
        return reader.read().then(function (r) {
          if (stopped) { reader.cancel().catch(function () {}); return null; }
          var frames = r.done ? next(decoder.decode(), true) : next(decoder.decode(r.value, { stream: true }), false);
          for (var i = 0; i < frames.length && !stopped; i++) ctx.onFrame(frames[i]);
          if (r.done) { if (!stopped) ctx.onEnd({ eof: true }); return null; }
          return pump();
        });
      }
      return pump();
    }).catch(function (err) {
      if (!stopped) ctx.onEnd({ error: err });
    });
    return { close: function () { stopped = true; ac.abort(); } };
  }

  /** text chunk → frames, for a streaming kind. */
  function framer(kind, contentType) {
    function collect(texts) {
      var out = [];
      texts.forEach(function (t) { var f = parseFrame(t); if (f) out.push(f); });
      return out;
    }
    if (kind === 'ndjson') {
      var lines = createLineParser();
      return function (text, end) { return collect(lines.push(text).concat(end ? lines.flush() : [])); };
    }
    if (kind === 'multipart') {
      var boundary = multipartBoundary(contentType);
      if (!boundary) return null;
      var parts = createMultipartParser(boundary);
      return function (text) { return collect(parts.push(text).map(function (p) { return p.body; })); };
    }
    var sse = createSseParser();
    return function (text) { return collect(sse.push(text).map(function (e) { return e.data; })); };
  }

  /** iframe ("forever frame"): a hidden iframe whose document calls parent.NAME(frame). */
  function runIframe(ctx) {
    var doc = G.document;
    var name = '__holdfast_iframe' + randomId() + '_' + (++callbackCounter);
    var done = false;
    var frame = doc.createElement('iframe');
    G[name] = function (f) { if (!done && f && typeof f === 'object') ctx.onFrame(f); };
    frame.setAttribute('aria-hidden', 'true');
    frame.tabIndex = -1;
    frame.style.cssText = 'position:absolute;width:0;height:0;border:0;visibility:hidden';
    frame.onload = function () { if (!done) { finish(); ctx.onEnd({ eof: true }); } };
    frame.src = ctx.url({ callback: name });
    afterLoad(function () { if (!done) (doc.body || doc.documentElement).appendChild(frame); });
    function finish() {
      done = true;
      G[name] = function () {};
      setTimeout(function () { try { delete G[name]; } catch (e) { G[name] = undefined; } }, 120000);
      frame.onload = null;
      if (frame.parentNode) frame.parentNode.removeChild(frame);
    }
    return { close: function () { if (!done) finish(); } };
  }

  var RUNNERS = {
    longpoll: runXhrPoll,
    poll: runXhrPoll,
    jsonp: runJsonp,
    iframe: runIframe,
    sse: function (ctx) { return G.EventSource ? runEventSource(ctx) : runFetchStream(ctx, 'sse'); },
    ndjson: function (ctx) { return runFetchStream(ctx, 'ndjson'); },
    multipart: function (ctx) { return runFetchStream(ctx, 'multipart'); }
  };

  // ---------------------------------------------------------------------------------------
  // 3. Tab sharing. One tab per (origin, channel set) holds the connection ("leader") and
  //    rebroadcasts frames on BroadcastChannel('holdfast:' + key); the others ("followers")
  //    listen. Election: Web Locks when available (the lock holder leads; the queued request
  //    of a follower is granted when the leader's tab goes away), else a heartbeat election
  //    on the same BroadcastChannel (lowest tab id wins a claim; silence = leader gone).
  //    Messages on the channel: {k:'frame'|'state'|'ask'|'hb'|'claim'|'resign', src, ...}.
  // ---------------------------------------------------------------------------------------

  var HB_INTERVAL = 1000;
  var HB_DEAD = 3500;
  var CLAIM_WINDOW = 300;

  function randomId() {
    var c = G.crypto;
    if (c && c.getRandomValues) {
      var a = new Uint32Array(2);
      c.getRandomValues(a);
      return a[0].toString(36) + a[1].toString(36);
    }
    return Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }

  /** Elects a leader among tabs. callbacks: lead() when this tab becomes leader, follow()
   *  when it is (or becomes) a follower, message(msg) for every other message. */
  function TabElection(name, callbacks) {
    this.name = name;
    this.cb = callbacks;
    this.id = randomId();
    this.leading = false;
    this.stopped = false;
    this.timers = {};
    this.bc = new G.BroadcastChannel(name);
    var self = this;
    this.bc.onmessage = function (ev) { self._receive(ev.data); };
    this.useLocks = !!(G.navigator && G.navigator.locks && G.navigator.locks.request);
  }

  TabElection.prototype.start = function () {
    if (this.useLocks) this._lockStart();
    else this._hbStart();
  };

  TabElection.prototype.post = function (msg) {
    if (this.stopped) return;
    msg.src = this.id;
    try { this.bc.postMessage(msg); } catch (e) { /* closed or uncloneable: nothing to share */ }
  };

  TabElection.prototype.stop = function () {
    if (this.stopped) return;
    if (this.leading && !this.useLocks) this.post({ k: 'resign' });
    this.stopped = true;
    this.leading = false;
    Object.keys(this.timers).forEach(function (k) { clearTimeout(this.timers[k]); clearInterval(this.timers[k]); }, this);
    if (this.lockAbort) this.lockAbort.abort();
    if (this.releaseLock) this.releaseLock();
    try { this.bc.close(); } catch (e) { /* already closed */ }
  };

  TabElection.prototype._lockStart = function () {
    var self = this;
    var locks = G.navigator.locks;
    var hold = function (lock) {
      if (!lock || self.stopped) return null;
      self.leading = true;
      self.cb.lead();
      return new Promise(function (resolve) { self.releaseLock = resolve; });
    };
    locks.request(this.name, { ifAvailable: true }, function (lock) {
      if (lock) return hold(lock);
      if (self.stopped) return null;
      self.cb.follow();
      self.lockAbort = makeAbort();
      locks.request(self.name, { signal: self.lockAbort.signal }, hold).catch(function () {});
      return null;
    }).catch(function () {});
  };

  TabElection.prototype._hbStart = function () {
    this.lastHb = 0;
    this.claims = {};
    this.post({ k: 'ask' });
    this._hbWatch(HB_INTERVAL + Math.random() * 500);
  };

  // Follower: become a candidate when no leader heartbeat was heard for `ms`.
  TabElection.prototype._hbWatch = function (ms) {
    var self = this;
    clearTimeout(this.timers.watch);
    this.timers.watch = setTimeout(function () {
      if (self.stopped || self.leading) return;
      if (Date.now() - self.lastHb < HB_DEAD && self.lastHb) { self._hbWatch(HB_DEAD); return; }
      self._claim();
    }, ms);
  };

  TabElection.prototype._claim = function () {
    var self = this;
    this.claims = {};
    this.post({ k: 'claim' });
    this.timers.claim = setTimeout(function () {
      if (self.stopped) return;
      var lower = Object.keys(self.claims).some(function (id) { return id < self.id; });
      if (lower || Date.now() - self.lastHb < HB_DEAD) { self._hbWatch(HB_DEAD); return; }
      self._hbLead();
    }, CLAIM_WINDOW);
  };

  TabElection.prototype._hbLead = function () {
    var self = this;
    this.leading = true;
    this.post({ k: 'hb' });
    this.timers.hb = setInterval(function () { self.post({ k: 'hb' }); }, HB_INTERVAL);
    this.cb.lead();
  };

  TabElection.prototype._stepDown = function () {
    clearInterval(this.timers.hb);
    this.leading = false;
    this.cb.follow();
    this._hbWatch(HB_DEAD);
  };

  TabElection.prototype._receive = function (msg) {
    if (this.stopped || !msg || msg.src === this.id) return;
    if (!this.useLocks) {
      if (msg.k === 'hb') {
        this.lastHb = Date.now();
        if (this.leading && msg.src < this.id) this._stepDown(); // split brain: lowest id keeps it
        else if (!this.leading && !this.followed) { this.followed = true; this.cb.follow(); }
        return;
      }
      if (msg.k === 'claim') {
        this.claims[msg.src] = true;
        if (this.leading) this.post({ k: 'hb' });
        return;
      }
      if (msg.k === 'resign') { this.lastHb = 0; if (!this.leading) this._hbWatch(Math.random() * 200); return; }
    }
    this.cb.message(msg);
  };

  // ---------------------------------------------------------------------------------------
  // 4. Subscription: connects, parses, resumes. States (onState):
  //    connecting   — first connection attempt under way
  //    open         — a stream said hello / a poll was answered (followers: the leader is open)
  //    reconnecting — the connection ended; waiting (backoff) or connecting again
  //    closed       — close() was called, or the server ended it for good (closed/fatal)
  // ---------------------------------------------------------------------------------------

  var STREAM_CONNECT_TIMEOUT = 15000;
  var POLL_MARGIN = 10000;

  function safeCall(fn, self, args) {
    if (typeof fn !== 'function') return;
    try { fn.apply(self, args); } catch (e) { setTimeout(function () { throw e; }, 0); }
  }

  function HoldfastError(message, fields) {
    var e = new Error(message);
    e.name = 'HoldfastError';
    Object.keys(fields || {}).forEach(function (k) { e[k] = fields[k]; });
    return e;
  }

  function Subscription(client, channels, options) {
    options = options || {};
    this.client = client;
    this.channels = normalizeChannels(channels);
    this.key = this.channels.slice().sort().join(',');
    this.options = options;
    this.state = 'idle';
    this.role = null;          // 'solo' | 'leader' | 'follower'
    this.transport = null;     // transport of the current / last connection
    this.session = null;
    this.heartbeat = null;     // seconds, from the last hello
    var requested = options.transport || 'auto';
    if (requested !== 'auto' && TRANSPORTS.indexOf(requested) < 0) throw new TypeError('Holdfast: unknown transport ' + requested);
    this._chain = requested === 'auto' ? autoChain(G) : [requested];
    this._chainAt = 0;
    this.transport = this._chain[0];
    this._everOpen = false;    // 'reconnecting' only after a first 'open'
    this._cursor = options.cursor ? parseCursor(options.cursor) : new Map();
    this._dedupe = createDedupe(options.dedupeWindow || 1000);
    this._failures = 0;        // consecutive failures (backoff exponent)
    this._tFailures = 0;       // consecutive failures of the current transport
    this._worked = {};         // transports that have worked in this subscription
    this._attempt = 0;
    this._conn = null;
    this._timers = {};
    this._closed = false;
    this._lastEnded = 0;
    this._election = null;
    this._backfill = null;     // follower: frames queued while the history poll runs
    this._start();
  }

  Object.defineProperty(Subscription.prototype, 'cursor', {
    get: function () { return formatCursor(this._cursor, this.channels); }
  });

  /** Ends the subscription: closes the connection (and the session, if any), leaves the tab
   *  election (a follower takes over), reports 'closed'. Safe to call twice. */
  Subscription.prototype.close = function () {
    if (this._closed) return;
    this._finish('closed', null, true);
  };

  Subscription.prototype._start = function () {
    var self = this;
    var share = this.options.shareTabs != null ? this.options.shareTabs : this.client.options.shareTabs;
    if (share == null) share = true;
    this._setState('connecting');
    if (!share || !G.BroadcastChannel) { this.role = 'solo'; this._emitRole(); this._connect(); return; }
    this._election = new TabElection('holdfast:' + this.key, {
      lead: function () { self._lead(); },
      follow: function () { self._follow(); },
      message: function (msg) { self._fromLeader(msg); }
    });
    this._election.start();
  };

  Subscription.prototype._lead = function () {
    if (this._closed) return;
    var takeover = this.role === 'follower';
    this.role = 'leader';
    this._failures = 0;
    if (takeover) this._setState('reconnecting');
    this._emitRole();
    this._connect();
  };

  Subscription.prototype._follow = function () {
    if (this._closed) return;
    var wasLeader = this.role === 'leader';
    this.role = 'follower';
    this._stopConnection();
    clearTimeout(this._timers.retry);
    this._election.post({ k: 'ask' });
    if (!wasLeader && !this._backfilled) this._startBackfill();
    this._emitRole();
  };

  // Follower: fetch the requested history (last/since) once, since the leader's stream started
  // before this tab. Broadcast frames arriving meanwhile wait, so history comes first.
  Subscription.prototype._startBackfill = function () {
    var o = this.options;
    this._backfilled = true;
    if (!o.last && !o.since && !o.cursor) return;
    var self = this;
    var params = { transport: 'poll' };
    if (o.cursor) params.cursor = formatCursor(o.cursor, this.channels); // not the leader's: history is the point
    if (o.last) params.last = o.last; else if (o.since) params.since = o.since;
    if (o.token) params.token = o.token;
    this._backfill = [];
    var url = buildSubscribeUrl(this.client.dataMount, this.channels, params);
    httpRequest(this.client._fetch(), 'GET', url, { credentials: this.client.options.credentials })
      .then(function (res) { return res.status === 200 ? readJsonSafe(res.text) : null; }, function () { return null; })
      .then(function (body) {
        var queued = self._backfill || [];
        self._backfill = null;
        if (self._closed) return;
        if (body) {
          (body.gap || []).forEach(function (g) { self._gap(g, false); });
          (body.messages || []).forEach(function (m) { self._deliver(m, null, false); });
          if (body.cursor && !self._cursor.size) self._cursor = mergeCursor(self._cursor, body.cursor);
        }
        queued.forEach(function (msg) { self._fromLeader(msg); });
      });
  };

  Subscription.prototype._fromLeader = function (msg) {
    if (this._closed) return;
    if (this.role === 'leader' || this.role === 'solo') {
      if (msg.k === 'ask') this._broadcastState();
      return;
    }
    if (this._backfill && msg.k === 'frame') { this._backfill.push(msg); return; }
    if (msg.k === 'state') {
      if (msg.cursor) this._cursor = mergeCursor(this._cursor, msg.cursor, { monotonic: true });
      this.transport = msg.transport || this.transport;
      if (msg.state === 'open') this._everOpen = true;
      this._setState(msg.state === 'closed' ? 'reconnecting' : msg.state);
      return;
    }
    if (msg.k !== 'frame' || !msg.f) return;
    var f = msg.f;
    if (f.type === 'message') this._deliver(f, f.cursor, false);
    else if (f.type === 'gap') this._gap(f, false);
    else if (f.type === 'deleted') safeCall(this.options.onDeleted, this, [f.channel, this]);
  };

  Subscription.prototype._broadcast = function (frame) {
    if (this.role === 'leader' && this._election) this._election.post({ k: 'frame', f: frame });
  };

  Subscription.prototype._broadcastState = function () {
    if (this.role === 'leader' && this._election) {
      this._election.post({ k: 'state', state: this.state, transport: this.transport, cursor: this.cursor });
    }
  };

  Subscription.prototype._setState = function (state) {
    if (this.state === state) return;
    this.state = state;
    this._broadcastState();
    this._emitState();
  };

  Subscription.prototype._emitState = function () {
    safeCall(this.options.onState, this, [this.state, { transport: this.transport, role: this.role, session: this.session, subscription: this }]);
  };

  Subscription.prototype._emitRole = function () {
    safeCall(this.options.onRole, this, [this.role, this]);
  };

  Subscription.prototype._error = function (err) {
    err.transport = err.transport || this.transport;
    safeCall(this.options.onError, this, [err, this]);
  };

  // --- connecting ---------------------------------------------------------------------

  Subscription.prototype._params = function (transport) {
    var o = this.options;
    var p = { transport: transport };
    if (this._cursor.size) p.cursor = this.cursor;
    if (!cursorCovers(this._cursor, this.channels)) {
      if (o.last) p.last = o.last; else if (o.since) p.since = o.since;
    }
    var sessions = o.session != null ? o.session : this.client.options.sessions;
    if (sessions !== false) {
      var ttl = (this.client.options.sessionTtl || 60) * 1000;
      if (this.session && this._lastEnded && Date.now() - this._lastEnded > ttl - 5000) this.session = null;
      p.session = this.session || 'new';
    }
    if (transport === 'longpoll' || transport === 'jsonp') {
      // The first request of a new session is answered at once (timeout=0), so the page learns
      // its session id before it ever holds a request and can close it on pagehide: behind
      // lighttpd and Apache a held long-poll whose page left is otherwise only freed at its
      // timeout.
      p.timeout = p.session === 'new' ? 0 : this._pollTimeout();
    }
    if (o.token) p.token = o.token;
    return p;
  };

  Subscription.prototype._pollTimeout = function () {
    var t = this.options.pollTimeout != null ? this.options.pollTimeout : this.client.options.pollTimeout;
    return t != null ? t : 25;
  };

  Subscription.prototype._connect = function () {
    if (this._closed || this.role === 'follower') return;
    this._stopConnection();
    var self = this;
    var transport = this._chain[this._chainAt];
    var id = ++this._attempt;
    var params = this._params(transport);
    this.transport = transport;
    this._hello = false;
    var live = function () { return id === self._attempt && !self._closed; };
    var ctx = {
      url: function (extra) {
        var all = {};
        Object.keys(params).forEach(function (k) { all[k] = params[k]; });
        Object.keys(extra || {}).forEach(function (k) { all[k] = extra[k]; });
        return buildSubscribeUrl(self.client.dataMount, self.channels, all);
      },
      fetch: this.client._fetch(),
      credentials: this.client.options.credentials,
      events: this.options.events,
      onFrame: function (f) { if (live()) self._frame(f); },
      onPoll: function (body) { if (live()) self._pollAnswer(body); },
      onEnd: function (info) { if (live()) self._ended(info); }
    };
    this._arm(POLL_LIKE[transport] ? (transport === 'poll' ? 0 : this._pollTimeout() * 1000) + POLL_MARGIN : STREAM_CONNECT_TIMEOUT);
    try {
      this._conn = RUNNERS[transport](ctx);
    } catch (e) {
      this._conn = null;
      this._ended({ error: e, unsupported: true });
    }
  };

  Subscription.prototype._stopConnection = function () {
    this._attempt++;
    clearTimeout(this._timers.watchdog);
    if (this._conn) { var c = this._conn; this._conn = null; c.close(); this._lastEnded = Date.now(); }
  };

  // Watchdog: no frame for `ms` (2 × heartbeat on streams; hold + margin on polls) means the
  // connection is dead even if the browser has not noticed.
  Subscription.prototype._arm = function (ms) {
    var self = this;
    var id = this._attempt;
    clearTimeout(this._timers.watchdog);
    this._timers.watchdog = setTimeout(function () {
      if (id === self._attempt) self._ended({ error: new Error('no data for ' + ms + ' ms'), timeout: true });
    }, ms);
  };

  Subscription.prototype._success = function () {
    this._everOpen = true;
    this._failures = 0;
    this._tFailures = 0;
    this._worked[this.transport] = true;
    this._setState('open');
  };

  Subscription.prototype._schedule = function (delay, state) {
    var self = this;
    if (this._closed) return;
    if (state === 'reconnecting' && !this._everOpen) state = 'connecting';
    if (state) this._setState(state);
    clearTimeout(this._timers.retry);
    this._timers.retry = setTimeout(function () { self._connect(); }, Math.max(0, delay));
  };

  // --- frames --------------------------------------------------------------------------

  Subscription.prototype._frame = function (f) {
    if (!f || typeof f.type !== 'string') return;
    if (this._hello) this._arm(2 * (this.heartbeat || 25) * 1000);
    switch (f.type) {
      case 'hello':
        this._hello = true;
        if (f.session) this.session = f.session;
        if (f.heartbeat > 0) this.heartbeat = f.heartbeat;
        if (f.cursor) this._cursor = mergeCursor(this._cursor, f.cursor);
        this._arm(2 * (this.heartbeat || 25) * 1000);
        this._success();
        this._broadcastState();
        break;
      case 'message':
        this._deliver(f, f.cursor, true);
        break;
      case 'gap':
        this._gap(f, true);
        break;
      case 'closed':
        this._closedByServer(f.reason || 'closed');
        break;
      case 'deleted':
        this._deleted(f.channel);
        break;
      case 'reconnect':
        if (f.cursor) this._cursor = mergeCursor(this._cursor, f.cursor);
        this._stopConnection();
        this._schedule(f.reason === 'max_stream_age' ? 0 : backoffDelay(0, this._backoffOptions()), 'reconnecting');
        break;
      default: // heartbeat and future frame types: liveness only
        break;
    }
  };

  /** Delivers one message once (dedupe by channel + id) and advances the cursor. */
  Subscription.prototype._deliver = function (m, cursorAfter, share) {
    if (!m || typeof m.channel !== 'string' || typeof m.id !== 'string') return;
    this._cursor = advanceCursor(this._cursor, m.channel, m.id);
    if (cursorAfter) {
      try { this._cursor = mergeCursor(this._cursor, cursorAfter, { monotonic: true }); } catch (e) { /* keep the id-based position */ }
    }
    if (this._dedupe.seen(m.channel + '\n' + m.id)) return;
    var msg = { channel: m.channel, id: m.id, event: m.event || 'message', data: m.data, time: m.time };
    if (share) this._broadcast({ type: 'message', channel: msg.channel, id: msg.id, event: msg.event, data: msg.data, time: msg.time, cursor: this.cursor });
    safeCall(this.options.onMessage, this, [msg, this]);
  };

  Subscription.prototype._gap = function (g, share) {
    var gap = { channel: g.channel, requested: g.requested, first_available: g.first_available, reason: g.reason };
    if (share) this._broadcast({ type: 'gap', channel: gap.channel, requested: gap.requested, first_available: gap.first_available, reason: gap.reason });
    safeCall(this.options.onGap, this, [gap, this]);
  };

  Subscription.prototype._closedByServer = function (reason) {
    if (this._suspended) { this._stopConnection(); return; } // our own pagehide beacon
    this._finish('closed', HoldfastError('subscription closed by the server: ' + reason, { code: 'closed', reason: reason, fatal: true }), false);
  };

  Subscription.prototype._deleted = function (channel) {
    this._stopConnection();
    safeCall(this.options.onDeleted, this, [channel, this]);
    this._broadcast({ type: 'deleted', channel: channel });
    if (this.options.reconnectOnDelete === false) {
      this._finish('closed', HoldfastError('channel deleted: ' + channel, { code: 'deleted', channel: channel, fatal: true }), false);
      return;
    }
    this._schedule(backoffDelay(0, this._backoffOptions()), 'reconnecting');
  };

  Subscription.prototype._backoffOptions = function () {
    var b = this.client.options.backoff || {};
    return { base: b.base, cap: b.cap, random: b.random };
  };

  Subscription.prototype._pollAnswer = function (body) {
    var self = this;
    clearTimeout(this._timers.watchdog);
    this._conn = null;
    this._lastEnded = Date.now();
    if (body.session) this.session = body.session;
    this._success();
    this._broadcastState();
    (body.gap || []).forEach(function (g) { self._gap(g, true); });
    (body.messages || []).forEach(function (m) { self._deliver(m, null, true); });
    if (body.cursor) {
      try { this._cursor = mergeCursor(this._cursor, body.cursor); } catch (e) { /* keep ours */ }
    }
    if (body.closed) { this._closedByServer(String(body.closed)); return; }
    if (body.reconnect) { this._schedule(backoffDelay(1, this._backoffOptions()), 'reconnecting'); return; }
    var interval = this.options.pollInterval != null ? this.options.pollInterval : 3000;
    this._schedule(this.transport === 'poll' && !body.more ? interval : 0);
  };

  // --- failures ------------------------------------------------------------------------

  Subscription.prototype._ended = function (info) {
    var hadHello = this._hello;
    this._stopConnection();
    if (this._closed) return;
    if (info.eof && hadHello && !POLL_LIKE[this.transport]) info = { eof: true, dropped: true };
    var status = info.status;
    var code = info.body && info.body.error;
    var message = (info.body && info.body.message) || (info.error && info.error.message) || (status ? 'HTTP ' + status : 'connection ended');
    var err = HoldfastError(message, { status: status, code: code, fatal: false });
    if (status === 404 && code === 'unknown_session' || status === 400 && code === 'bad_session') {
      this.session = null;
      this._schedule(this._failures++ ? backoffDelay(this._failures - 1, this._backoffOptions()) : 0, 'reconnecting');
      return;
    }
    if (status === 409) { this._closedByServer('superseded'); return; }
    if (status === 410) {
      var m = /channel (\S+) was deleted/.exec(message);
      this._deleted(m ? m[1] : null);
      return;
    }
    if (status === 400 && code === 'bad_cursor') {
      this._error(err);
      this._cursor = new Map();
    } else if (status === 400 || status === 401 || status === 403 || status === 404 || status === 405 || status === 413) {
      err.fatal = true;
      this._finish('closed', err, false);
      return;
    } else {
      this._error(err);
    }
    this._fail(info);
  };

  Subscription.prototype._fail = function (info) {
    var t = this.transport;
    this._failures++;
    this._tFailures++;
    var exhausted = info.unsupported || (!this._worked[t] && this._tFailures >= 3);
    if (exhausted && this._chainAt < this._chain.length - 1) {
      this._chainAt++;
      this._tFailures = 0;
    }
    if (OPAQUE[t] && this._tFailures >= 2) this.session = null; // maybe expired; we cannot tell
    var delay = info.dropped && this._failures === 1 ? 0 : backoffDelay(this._failures - 1, this._backoffOptions());
    if (info.retryAfter) delay = Math.max(delay, info.retryAfter * 1000);
    this._schedule(delay, 'reconnecting');
  };

  Subscription.prototype._finish = function (state, err, closeSession) {
    this._closed = true;
    if (closeSession && this.session && this.role !== 'follower') this.client.closeSession(this.session, { beacon: false });
    this._stopConnection();
    Object.keys(this._timers).forEach(function (k) { clearTimeout(this._timers[k]); }, this);
    if (this._election) { this._election.stop(); this._election = null; }
    this.client._forget(this);
    if (err) this._error(err);
    this.state = state;
    this._emitState();
  };

  // pagehide: close the session with a beacon (the page may be gone before a fetch ends).
  Subscription.prototype._pageHide = function () {
    if (this._closed) return;
    this._suspended = true;
    if (this.session && this.role !== 'follower') this.client.closeSession(this.session, { beacon: true });
    this.session = null;
    this._stopConnection();
    clearTimeout(this._timers.retry);
  };

  // pageshow from the back/forward cache: connect again (with a new session).
  Subscription.prototype._pageShow = function () {
    if (this._closed || !this._suspended) return;
    this._suspended = false;
    if (this.role !== 'follower') this._schedule(0, 'reconnecting');
  };

  // ---------------------------------------------------------------------------------------
  // 5. Client
  // ---------------------------------------------------------------------------------------

  /** new Holdfast.Client({base, dataMount, controlMount, shareTabs, sessions, pollTimeout,
   *  sessionTtl, backoff:{base,cap}, credentials, key, fetch}) — see docs/client.md. */
  function Client(options) {
    options = options || {};
    var base = (options.base != null ? String(options.base) : '/push').replace(/\/+$/, '');
    this.options = options;
    this.dataMount = (options.dataMount || base + '/sub').replace(/\/+$/, '');
    this.controlMount = (options.controlMount || base + '/ctl').replace(/\/+$/, '');
    this.subscriptions = [];
    var self = this;
    if (G.addEventListener && G.document) {
      this._onPageHide = function () { self.subscriptions.slice().forEach(function (s) { s._pageHide(); }); };
      this._onPageShow = function (ev) {
        if (ev.persisted) self.subscriptions.slice().forEach(function (s) { s._pageShow(); });
      };
      G.addEventListener('pagehide', this._onPageHide);
      G.addEventListener('pageshow', this._onPageShow);
    }
  }

  Client.prototype._fetch = function () {
    var f = this.options.fetch || G.fetch;
    return f ? (this.options.fetch ? f : f.bind(G)) : null;
  };

  /** Subscribes to one channel or several (array or "a,b"); returns a Subscription. */
  Client.prototype.subscribe = function (channels, options) {
    var sub = new Subscription(this, channels, options);
    if (!sub._closed) this.subscriptions.push(sub);
    return sub;
  };

  Client.prototype._forget = function (sub) {
    var i = this.subscriptions.indexOf(sub);
    if (i >= 0) this.subscriptions.splice(i, 1);
  };

  /** Publishes `data` (JSON-encoded; options.raw sends a string body as text) to a channel
   *  (or several). Resolves with the server's JSON answer plus `status` (201 delivered,
   *  202 buffered); rejects with an Error carrying status, code and message. */
  Client.prototype.publish = function (channel, data, options) {
    options = options || {};
    var channels = normalizeChannels(channel);
    var url = this.controlMount + '/pub/' + channels.join(',');
    if (options.event) url += '?event=' + encodeURIComponent(options.event);
    var raw = options.raw && typeof data === 'string';
    var headers = { 'Content-Type': raw ? 'text/plain; charset=utf-8' : 'application/json' };
    var key = options.key || this.options.key;
    if (key) headers.Authorization = 'Bearer ' + key;
    var body = raw ? data : JSON.stringify(data === undefined ? null : data);
    return httpRequest(this._fetch(), 'POST', url, { headers: headers, body: body, credentials: this.options.credentials })
      .then(function (res) {
        var json = readJsonSafe(res.text);
        if (res.status !== 201 && res.status !== 202) {
          throw HoldfastError((json && json.message) || 'publish failed: HTTP ' + res.status,
            { status: res.status, code: json && json.error });
        }
        var out = json && typeof json === 'object' ? json : {};
        out.status = res.status;
        return out;
      });
  };

  /** Closes a server session (POST <ctl>/session/ID/close). beacon:true uses sendBeacon,
   *  which survives page unload; otherwise fetch with keepalive. */
  Client.prototype.closeSession = function (id, options) {
    var url = this.controlMount + '/session/' + encodeURIComponent(id) + '/close';
    var nav = G.navigator;
    if (options && options.beacon && nav && nav.sendBeacon) {
      try { if (nav.sendBeacon(url)) return; } catch (e) { /* fall through to fetch */ }
    }
    var f = this._fetch();
    if (f) f(url, { method: 'POST', keepalive: true, credentials: this.options.credentials || 'same-origin' }).catch(function () {});
  };

  /** Closes every subscription of this client and removes its page listeners. */
  Client.prototype.close = function () {
    this.subscriptions.slice().forEach(function (s) { s.close(); });
    if (this._onPageHide) {
      G.removeEventListener('pagehide', this._onPageHide);
      G.removeEventListener('pageshow', this._onPageShow);
    }
  };

  return {
    VERSION: VERSION,
    Client: Client,
    Subscription: Subscription,
    TRANSPORTS: TRANSPORTS.slice(),
    isValidChannel: isValidChannel,
    normalizeChannels: normalizeChannels,
    parseId: parseId,
    compareSeq: compareSeq,
    parseCursor: parseCursor,
    formatCursor: formatCursor,
    mergeCursor: mergeCursor,
    advanceCursor: advanceCursor,
    cursorCovers: cursorCovers,
    backoffCeiling: backoffCeiling,
    backoffDelay: backoffDelay,
    createSseParser: createSseParser,
    createLineParser: createLineParser,
    createMultipartParser: createMultipartParser,
    multipartBoundary: multipartBoundary,
    parseFrame: parseFrame,
    createDedupe: createDedupe,
    buildSubscribeUrl: buildSubscribeUrl,
    autoChain: autoChain,
    isValidCallback: function (name) { return CALLBACK_RE.test(name); }
  };
});
