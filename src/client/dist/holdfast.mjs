/*! Holdfast browser client 0.1.0. Built from src/client/src by build.mjs (do not edit); see docs/client.md. */

// src/backoff.js
function backoffCeiling(attempt, options) {
  const base = options && options.base != null ? options.base : 1e3;
  const cap = options && options.cap != null ? options.cap : 3e4;
  const n = Math.max(0, Math.floor(attempt) || 0);
  return Math.min(cap, base * Math.pow(2, Math.min(n, 60)));
}
function backoffDelay(attempt, options) {
  const random = options && options.random || Math.random;
  let r = Number(random());
  if (!(r >= 0)) r = 0;
  if (r >= 1) r = 1 - 1e-12;
  return Math.floor(r * backoffCeiling(attempt, options));
}

// src/channels.js
var CHANNEL_RE = /^[A-Za-z0-9_.~@-]{1,128}$/;
var CALLBACK_RE = /^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$/;
function isValidChannel(name) {
  return typeof name === "string" && CHANNEL_RE.test(name);
}
function isValidCallback(name) {
  return CALLBACK_RE.test(name);
}
function normalizeChannels(channels) {
  const list = Array.isArray(channels) ? channels.slice() : String(channels).split(",");
  const out = [];
  for (const item of list) {
    const name = String(item).trim();
    if (!isValidChannel(name)) throw new TypeError("Holdfast: bad channel name " + JSON.stringify(name));
    if (!out.includes(name)) out.push(name);
  }
  if (!out.length) throw new TypeError("Holdfast: no channel given");
  return out;
}
function buildSubscribeUrl(dataMount, channels, params) {
  const url = String(dataMount).replace(/\/+$/, "") + "/" + channels.join(",");
  const query = [];
  for (const k of Object.keys(params || {})) {
    const v = params[k];
    if (v === void 0 || v === null || v === "") continue;
    query.push(encodeURIComponent(k) + "=" + encodeURIComponent(String(v)));
  }
  return query.length ? url + "?" + query.join("&") : url;
}

// src/errors.js
function holdfastError(message, fields) {
  const e = new Error(message);
  e.name = "HoldfastError";
  Object.assign(e, fields || {});
  return e;
}
function safeCall(fn, self, args) {
  if (typeof fn !== "function") return;
  try {
    fn.apply(self, args);
  } catch (e) {
    setTimeout(() => {
      throw e;
    }, 0);
  }
}

// src/http.js
function retryAfterOf(headers) {
  const v = headers && headers.get && headers.get("Retry-After");
  const n = v ? parseInt(v, 10) : NaN;
  return isFinite(n) ? n : null;
}
function readJsonSafe(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    return null;
  }
}
function makeAbort() {
  return typeof AbortController !== "undefined" ? new AbortController() : { signal: void 0, abort() {
  } };
}
function xhrRequest(method, url, init) {
  return new Promise((resolve, reject) => {
    const xhr = new globalThis.XMLHttpRequest();
    xhr.open(method, url, true);
    if (init.credentials === "include") xhr.withCredentials = true;
    for (const k of Object.keys(init.headers || {})) xhr.setRequestHeader(k, init.headers[k]);
    xhr.onload = () => {
      resolve({ status: xhr.status, text: xhr.responseText, headers: { get: (h) => xhr.getResponseHeader(h) } });
    };
    xhr.onerror = () => reject(new Error("network error"));
    xhr.onabort = () => reject(new Error("aborted"));
    if (init.signal) init.signal.addEventListener("abort", () => xhr.abort());
    xhr.send(init.body == null ? null : init.body);
  });
}
function httpRequest(fetchImpl, method, url, init) {
  init = init || {};
  if (!fetchImpl) return xhrRequest(method, url, init);
  return fetchImpl(url, {
    method,
    headers: init.headers,
    body: init.body,
    signal: init.signal,
    credentials: init.credentials || "same-origin",
    cache: "no-store"
  }).then((res) => res.text().then((text) => ({ status: res.status, text, headers: res.headers })));
}

// src/cursor.js
var EPOCH_RE = /^[A-Za-z0-9_-]{1,32}$/;
var SEQ_RE = /^[0-9]{1,20}$/;
var stripZeros = (s) => String(s).replace(/^0+(?=\d)/, "");
function parseId(id) {
  if (typeof id !== "string") return null;
  const dash = id.lastIndexOf("-");
  if (dash <= 0) return null;
  const epoch = id.slice(0, dash);
  const seq = id.slice(dash + 1);
  if (!EPOCH_RE.test(epoch) || !SEQ_RE.test(seq)) return null;
  return { epoch, seq: stripZeros(seq) };
}
function compareSeq(a, b) {
  a = stripZeros(a);
  b = stripZeros(b);
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}
function parseCursor(text) {
  const map = /* @__PURE__ */ new Map();
  if (text == null || text === "") return map;
  String(text).split(",").forEach((raw, i) => {
    const entry = raw.trim();
    const colon = entry.indexOf(":");
    const name = colon > 0 ? entry.slice(0, colon) : "";
    const pos = colon > 0 ? parseId(entry.slice(colon + 1)) : null;
    if (!isValidChannel(name) || !pos) {
      throw new TypeError("Holdfast: bad cursor entry " + (i + 1) + " " + JSON.stringify(entry));
    }
    map.set(name, pos);
  });
  return map;
}
var toCursor = (c) => c instanceof Map ? c : parseCursor(c);
function formatCursor(cursor, order) {
  cursor = toCursor(cursor);
  const parts = [];
  const done = /* @__PURE__ */ new Set();
  for (const ch of order || []) {
    const p = cursor.get(ch);
    if (p && !done.has(ch)) {
      parts.push(ch + ":" + p.epoch + "-" + p.seq);
      done.add(ch);
    }
  }
  cursor.forEach((p, ch) => {
    if (!done.has(ch)) parts.push(ch + ":" + p.epoch + "-" + p.seq);
  });
  return parts.join(",");
}
function mergeCursor(base, update, options) {
  const monotonic = !!(options && options.monotonic);
  const out = new Map(toCursor(base));
  toCursor(update).forEach((p, ch) => {
    const old = out.get(ch);
    if (monotonic && old && old.epoch === p.epoch && compareSeq(old.seq, p.seq) > 0) return;
    out.set(ch, { epoch: p.epoch, seq: p.seq });
  });
  return out;
}
function advanceCursor(cursor, channel, id) {
  const pos = parseId(id);
  if (!pos || !isValidChannel(channel)) return new Map(toCursor(cursor));
  return mergeCursor(cursor, /* @__PURE__ */ new Map([[channel, pos]]), { monotonic: true });
}
function cursorCovers(cursor, channels) {
  cursor = toCursor(cursor);
  return channels.every((ch) => cursor.has(ch));
}

// src/dedupe.js
function createDedupe(size) {
  const limit = Math.max(1, size || 1e3);
  const set = /* @__PURE__ */ new Set();
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
    get size() {
      return set.size;
    }
  };
}

// src/parsers/frame.js
function parseFrame(text) {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v : null;
  } catch (e) {
    return null;
  }
}

// src/runners/event_source.js
var FRAME_EVENTS = ["hello", "message", "heartbeat", "gap", "closed", "deleted", "reconnect"];
function runEventSource(ctx) {
  const es = new globalThis.EventSource(ctx.url(), { withCredentials: ctx.credentials === "include" });
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
  return { close() {
    done = true;
    es.close();
  } };
}

// src/parsers/lines.js
var clean = (line) => line.charAt(line.length - 1) === "\r" ? line.slice(0, -1) : line;
function createLineParser() {
  let buf = "";
  return {
    push(text) {
      buf += text;
      const lines = buf.split("\n");
      buf = lines.pop();
      return lines.map(clean).filter((l) => l.trim() !== "");
    },
    flush() {
      const rest = clean(buf);
      buf = "";
      return rest.trim() === "" ? [] : [rest];
    }
  };
}

// src/parsers/multipart.js
function multipartBoundary(contentType) {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || "");
  return m ? m[1] || m[2] : null;
}
function parsePartHeaders(text) {
  const headers = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
function createMultipartParser(boundary) {
  if (!boundary) throw new TypeError("Holdfast: multipart boundary required");
  const dash = "--" + boundary;
  const delim = "\r\n" + dash;
  let buf = "";
  let state = "preamble";
  let atStart = true;
  const parser = { done: false, push };
  function preamble() {
    if (atStart && buf.length < dash.length && dash.indexOf(buf) === 0) return false;
    if (atStart && buf.slice(0, dash.length) === dash) {
      buf = buf.slice(dash.length);
      state = "after";
      atStart = false;
      return true;
    }
    const at = buf.indexOf(delim);
    if (at >= 0) {
      buf = buf.slice(at + delim.length);
      state = "after";
      atStart = false;
      return true;
    }
    if (buf.length > delim.length) {
      buf = buf.slice(buf.length - delim.length);
      atStart = false;
    }
    return false;
  }
  function afterDelimiter() {
    let j = 0;
    while (j < buf.length && (buf.charAt(j) === " " || buf.charAt(j) === "	")) j++;
    if (buf.length < j + 2) return false;
    const two = buf.slice(j, j + 2);
    if (two === "--") {
      state = "done";
      parser.done = true;
      buf = "";
      return false;
    }
    if (two === "\r\n") {
      buf = buf.slice(j + 2);
      state = "part";
      return true;
    }
    state = "preamble";
    return true;
  }
  function part(out) {
    const end = buf.indexOf(delim);
    if (end < 0) return false;
    const raw = buf.slice(0, end);
    buf = buf.slice(end + delim.length);
    state = "after";
    const split = raw.slice(0, 2) === "\r\n" ? 0 : raw.indexOf("\r\n\r\n");
    if (split < 0) out.push({ headers: {}, body: raw });
    else {
      const bodyAt = split === 0 ? 2 : split + 4;
      out.push({ headers: parsePartHeaders(raw.slice(0, split)), body: raw.slice(bodyAt) });
    }
    return true;
  }
  function step(out) {
    if (state === "preamble") return preamble();
    if (state === "after") return afterDelimiter();
    if (state === "part") return part(out);
    return false;
  }
  function push(text) {
    const out = [];
    if (state === "done") return out;
    buf += text;
    while (step(out)) {
    }
    return out;
  }
  return parser;
}

// src/parsers/sse.js
function createSseParser() {
  let buf = "";
  let skipLF = false;
  let first = true;
  let data = [];
  let event = "";
  let lastId = "";
  const parser = { retry: null, push };
  function field(line, out) {
    if (line === "") {
      if (data.length) out.push({ type: event || "message", data: data.join("\n"), id: lastId });
      data = [];
      event = "";
      return;
    }
    if (line.charAt(0) === ":") return;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charAt(0) === " ") value = value.slice(1);
    if (name === "data") data.push(value);
    else if (name === "event") event = value;
    else if (name === "id") {
      if (!value.includes("\0")) lastId = value;
    } else if (name === "retry") {
      if (/^\d+$/.test(value)) parser.retry = parseInt(value, 10);
    }
  }
  function push(text) {
    const out = [];
    if (first && text.length) {
      if (text.charCodeAt(0) === 65279) text = text.slice(1);
      first = false;
    }
    if (!text.length) return out;
    if (skipLF && text.charAt(0) === "\n") text = text.slice(1);
    skipLF = false;
    buf += text;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charAt(i);
      if (c !== "\r" && c !== "\n") continue;
      field(buf.slice(start, i), out);
      if (c === "\r") {
        if (i + 1 < buf.length) {
          if (buf.charAt(i + 1) === "\n") i++;
        } else skipLF = true;
      }
      start = i + 1;
    }
    buf = buf.slice(start);
    return out;
  }
  return parser;
}

// src/runners/fetch_stream.js
var ACCEPT = { ndjson: "application/x-ndjson", multipart: "multipart/x-mixed-replace", sse: "text/event-stream" };
var collect = (texts) => texts.map(parseFrame).filter((f) => f);
function framer(kind, contentType) {
  if (kind === "ndjson") {
    const lines = createLineParser();
    return (text, end) => collect(lines.push(text).concat(end ? lines.flush() : []));
  }
  if (kind === "multipart") {
    const boundary = multipartBoundary(contentType);
    if (!boundary) return null;
    const parts = createMultipartParser(boundary);
    return (text) => collect(parts.push(text).map((p) => p.body));
  }
  const sse = createSseParser();
  return (text) => collect(sse.push(text).map((e) => e.data));
}
function runFetchStream(ctx, kind) {
  const ac = makeAbort();
  let stopped = false;
  const stream = (res) => {
    if (!res.body || !res.body.getReader) {
      ctx.onEnd({ error: new Error("streaming fetch unsupported"), unsupported: true });
      return null;
    }
    const next = framer(kind, res.headers.get("Content-Type"));
    if (!next) {
      ctx.onEnd({ error: new Error(kind + ": no boundary") });
      return null;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const pump = () => reader.read().then((r) => {
      if (stopped) {
        reader.cancel().catch(() => {
        });
        return null;
      }
      const frames = r.done ? next(decoder.decode(), true) : next(decoder.decode(r.value, { stream: true }), false);
      for (let i = 0; i < frames.length && !stopped; i++) ctx.onFrame(frames[i]);
      if (r.done) {
        if (!stopped) ctx.onEnd({ eof: true });
        return null;
      }
      return pump();
    });
    return pump();
  };
  ctx.fetch(ctx.url(), {
    headers: { Accept: ACCEPT[kind] },
    signal: ac.signal,
    credentials: ctx.credentials || "same-origin",
    cache: "no-store"
  }).then((res) => {
    if (stopped) return null;
    if (res.status !== 200) {
      return res.text().then((text) => {
        if (!stopped) ctx.onEnd({ status: res.status, body: readJsonSafe(text), retryAfter: retryAfterOf(res.headers) });
      });
    }
    return stream(res);
  }).catch((err) => {
    if (!stopped) ctx.onEnd({ error: err });
  });
  return { close() {
    stopped = true;
    ac.abort();
  } };
}

// src/page.js
var callbackCounter = 0;
function randomId() {
  const c = globalThis.crypto;
  if (c && c.getRandomValues) {
    const a = new Uint32Array(2);
    c.getRandomValues(a);
    return a[0].toString(36) + a[1].toString(36);
  }
  return Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
}
function callbackName(kind) {
  return "__holdfast_" + kind + randomId() + "_" + ++callbackCounter;
}
function retireCallback(name) {
  globalThis[name] = () => {
  };
  setTimeout(() => {
    try {
      delete globalThis[name];
    } catch (e) {
      globalThis[name] = void 0;
    }
  }, 12e4);
}
function afterLoad(fn) {
  const doc = globalThis.document;
  if (!doc || doc.readyState === "complete") {
    fn();
    return;
  }
  let done = false;
  globalThis.addEventListener("load", () => {
    if (!done) {
      done = true;
      setTimeout(fn, 0);
    }
  });
}

// src/runners/iframe.js
function runIframe(ctx) {
  const doc = globalThis.document;
  const name = callbackName("iframe");
  let done = false;
  const frame = doc.createElement("iframe");
  const finish = () => {
    done = true;
    retireCallback(name);
    frame.onload = null;
    if (frame.parentNode) frame.parentNode.removeChild(frame);
  };
  globalThis[name] = (f) => {
    if (!done && f && typeof f === "object") ctx.onFrame(f);
  };
  frame.setAttribute("aria-hidden", "true");
  frame.tabIndex = -1;
  frame.style.cssText = "position:absolute;width:0;height:0;border:0;visibility:hidden";
  frame.onload = () => {
    if (!done) {
      finish();
      ctx.onEnd({ eof: true });
    }
  };
  frame.src = ctx.url({ callback: name });
  afterLoad(() => {
    if (!done) (doc.body || doc.documentElement).appendChild(frame);
  });
  return { close() {
    if (!done) finish();
  } };
}

// src/runners/jsonp.js
function runJsonp(ctx) {
  const doc = globalThis.document;
  const name = callbackName("jsonp");
  const script = doc.createElement("script");
  let settled = false;
  const cleanup = () => {
    settled = true;
    retireCallback(name);
    if (script.parentNode) script.parentNode.removeChild(script);
  };
  globalThis[name] = (body) => {
    if (settled) return;
    cleanup();
    if (body && typeof body === "object") ctx.onPoll(body);
    else ctx.onEnd({ error: new Error("jsonp: bad answer") });
  };
  script.async = true;
  script.src = ctx.url({ callback: name });
  script.onerror = () => {
    if (!settled) {
      cleanup();
      ctx.onEnd({ error: new Error("jsonp: load failed") });
    }
  };
  script.onload = () => {
    if (!settled) {
      cleanup();
      ctx.onEnd({ error: new Error("jsonp: no callback") });
    }
  };
  afterLoad(() => {
    if (!settled) (doc.head || doc.documentElement).appendChild(script);
  });
  return { close() {
    if (!settled) cleanup();
  } };
}

// src/runners/poll.js
function runXhrPoll(ctx) {
  const ac = makeAbort();
  let stopped = false;
  httpRequest(ctx.fetch, "GET", ctx.url(), { signal: ac.signal, credentials: ctx.credentials }).then((res) => {
    if (stopped) return;
    const body = readJsonSafe(res.text);
    if (res.status === 200 && body && typeof body === "object") ctx.onPoll(body);
    else ctx.onEnd({ status: res.status, body, retryAfter: retryAfterOf(res.headers) });
  }, (err) => {
    if (!stopped) ctx.onEnd({ error: err });
  });
  return { close() {
    stopped = true;
    ac.abort();
  } };
}

// src/runners/index.js
var TRANSPORT_NAMES = ["sse", "longpoll", "jsonp", "iframe", "multipart", "ndjson", "poll"];
var POLL_LIKE = /* @__PURE__ */ new Set(["longpoll", "jsonp", "poll"]);
var OPAQUE = /* @__PURE__ */ new Set(["sse", "iframe", "jsonp"]);
var RUNNERS = {
  longpoll: runXhrPoll,
  poll: runXhrPoll,
  jsonp: runJsonp,
  iframe: runIframe,
  sse: (ctx) => globalThis.EventSource ? runEventSource(ctx) : runFetchStream(ctx, "sse"),
  ndjson: (ctx) => runFetchStream(ctx, "ndjson"),
  multipart: (ctx) => runFetchStream(ctx, "multipart")
};
function autoChain(env) {
  const chain = [];
  if (env.EventSource) chain.push("sse");
  if (env.fetch || env.XMLHttpRequest) chain.push("longpoll");
  if (env.document) chain.push("jsonp");
  return chain.length ? chain : ["longpoll"];
}

// src/tab_election.js
var HB_INTERVAL = 1e3;
var HB_DEAD = 3500;
var CLAIM_WINDOW = 300;
var TabElection = class {
  constructor(name, callbacks) {
    this.name = name;
    this.cb = callbacks;
    this.id = randomId();
    this.leading = false;
    this.stopped = false;
    this.followed = false;
    this.timers = {};
    this.bc = new globalThis.BroadcastChannel(name);
    this.bc.onmessage = (ev) => this._receive(ev.data);
    const nav = globalThis.navigator;
    this.useLocks = !!(nav && nav.locks && nav.locks.request);
  }
  /** Joins the election. */
  start() {
    if (this.useLocks) this._lockStart();
    else this._hbStart();
  }
  /** Sends `msg` (stamped with this tab's id) to the other tabs; a no-op once stopped. */
  post(msg) {
    if (this.stopped) return;
    msg.src = this.id;
    try {
      this.bc.postMessage(msg);
    } catch (e) {
    }
  }
  /** Leaves the election (a leader resigns, so a follower takes over). Safe to call twice. */
  stop() {
    if (this.stopped) return;
    if (this.leading && !this.useLocks) this.post({ k: "resign" });
    this.stopped = true;
    this.leading = false;
    for (const k of Object.keys(this.timers)) {
      clearTimeout(this.timers[k]);
      clearInterval(this.timers[k]);
    }
    if (this.lockAbort) this.lockAbort.abort();
    if (this.releaseLock) this.releaseLock();
    try {
      this.bc.close();
    } catch (e) {
    }
  }
  _lockStart() {
    const locks = globalThis.navigator.locks;
    const hold = (lock) => {
      if (!lock || this.stopped) return null;
      this.leading = true;
      this.cb.lead();
      return new Promise((resolve) => {
        this.releaseLock = resolve;
      });
    };
    locks.request(this.name, { ifAvailable: true }, (lock) => {
      if (lock) return hold(lock);
      if (this.stopped) return null;
      this.cb.follow();
      this.lockAbort = makeAbort();
      locks.request(this.name, { signal: this.lockAbort.signal }, hold).catch(() => {
      });
      return null;
    }).catch(() => {
    });
  }
  _hbStart() {
    this.lastHb = 0;
    this.claims = {};
    this.post({ k: "ask" });
    this._hbWatch(HB_INTERVAL + Math.random() * 500);
  }
  // Follower: become a candidate when no leader heartbeat was heard for `ms`.
  _hbWatch(ms) {
    clearTimeout(this.timers.watch);
    this.timers.watch = setTimeout(() => {
      if (this.stopped || this.leading) return;
      if (Date.now() - this.lastHb < HB_DEAD && this.lastHb) {
        this._hbWatch(HB_DEAD);
        return;
      }
      this._claim();
    }, ms);
  }
  _claim() {
    this.claims = {};
    this.post({ k: "claim" });
    this.timers.claim = setTimeout(() => {
      if (this.stopped) return;
      const lower = Object.keys(this.claims).some((id) => id < this.id);
      if (lower || Date.now() - this.lastHb < HB_DEAD) {
        this._hbWatch(HB_DEAD);
        return;
      }
      this._hbLead();
    }, CLAIM_WINDOW);
  }
  _hbLead() {
    this.leading = true;
    this.post({ k: "hb" });
    this.timers.hb = setInterval(() => this.post({ k: "hb" }), HB_INTERVAL);
    this.cb.lead();
  }
  _stepDown() {
    clearInterval(this.timers.hb);
    this.leading = false;
    this.cb.follow();
    this._hbWatch(HB_DEAD);
  }
  _receive(msg) {
    if (this.stopped || !msg || msg.src === this.id) return;
    if (!this.useLocks && this._election(msg)) return;
    this.cb.message(msg);
  }
  // Heartbeat-election messages; true when `msg` was one.
  _election(msg) {
    if (msg.k === "hb") {
      this.lastHb = Date.now();
      if (this.leading && msg.src < this.id) this._stepDown();
      else if (!this.leading && !this.followed) {
        this.followed = true;
        this.cb.follow();
      }
      return true;
    }
    if (msg.k === "claim") {
      this.claims[msg.src] = true;
      if (this.leading) this.post({ k: "hb" });
      return true;
    }
    if (msg.k === "resign") {
      this.lastHb = 0;
      if (!this.leading) this._hbWatch(Math.random() * 200);
      return true;
    }
    return false;
  }
};

// src/subscription.js
var STREAM_CONNECT_TIMEOUT = 15e3;
var POLL_MARGIN = 1e4;
var Subscription = class {
  /** Use client.subscribe(channels, options). Throws TypeError on a bad channel name or an
   *  unknown transport. */
  constructor(client, channels, options) {
    options = options || {};
    this.client = client;
    this.channels = normalizeChannels(channels);
    this.key = this.channels.slice().sort().join(",");
    this.options = options;
    this.state = "idle";
    this.role = null;
    this.transport = null;
    this.session = null;
    this.heartbeat = null;
    const requested = options.transport || "auto";
    if (requested !== "auto" && !TRANSPORT_NAMES.includes(requested)) throw new TypeError("Holdfast: unknown transport " + requested);
    this._chain = requested === "auto" ? autoChain(globalThis) : [requested];
    this._chainAt = 0;
    this.transport = this._chain[0];
    this._everOpen = false;
    this._cursor = options.cursor ? parseCursor(options.cursor) : /* @__PURE__ */ new Map();
    this._dedupe = createDedupe(options.dedupeWindow || 1e3);
    this._failures = 0;
    this._tFailures = 0;
    this._worked = {};
    this._attempt = 0;
    this._conn = null;
    this._timers = {};
    this._closed = false;
    this._lastEnded = 0;
    this._election = null;
    this._backfill = null;
    this._start();
  }
  /** The compound cursor, "ch:EPOCH-SEQ,...", this subscription's channels first. */
  get cursor() {
    return formatCursor(this._cursor, this.channels);
  }
  /** Ends the subscription: closes the connection (and the session, if any), leaves the tab
   *  election (a follower takes over), reports 'closed'. Safe to call twice. */
  close() {
    if (this._closed) return;
    this._finish("closed", null, true);
  }
  // --- tab sharing ---------------------------------------------------------------------
  _start() {
    let share = this.options.shareTabs != null ? this.options.shareTabs : this.client.options.shareTabs;
    if (share == null) share = true;
    this._setState("connecting");
    if (!share || !globalThis.BroadcastChannel) {
      this.role = "solo";
      this._emitRole();
      this._connect();
      return;
    }
    this._election = new TabElection("holdfast:" + this.key, {
      lead: () => this._lead(),
      follow: () => this._follow(),
      message: (msg) => this._fromLeader(msg)
    });
    this._election.start();
  }
  _lead() {
    if (this._closed) return;
    const takeover = this.role === "follower";
    this.role = "leader";
    this._failures = 0;
    if (takeover) this._setState("reconnecting");
    this._emitRole();
    this._connect();
  }
  _follow() {
    if (this._closed) return;
    const wasLeader = this.role === "leader";
    this.role = "follower";
    this._stopConnection();
    clearTimeout(this._timers.retry);
    this._election.post({ k: "ask" });
    if (!wasLeader && !this._backfilled) this._startBackfill();
    this._emitRole();
  }
  // Follower: fetch the requested history (last/since) once, since the leader's stream started
  // before this tab. Broadcast frames arriving meanwhile wait, so history comes first.
  _startBackfill() {
    const o = this.options;
    this._backfilled = true;
    if (!o.last && !o.since && !o.cursor) return;
    const params = { transport: "poll" };
    if (o.cursor) params.cursor = formatCursor(o.cursor, this.channels);
    if (o.last) params.last = o.last;
    else if (o.since) params.since = o.since;
    if (o.token) params.token = o.token;
    this._backfill = [];
    const url = buildSubscribeUrl(this.client.dataMount, this.channels, params);
    httpRequest(this.client._fetch(), "GET", url, { credentials: this.client.options.credentials }).then((res) => res.status === 200 ? readJsonSafe(res.text) : null, () => null).then((body) => {
      const queued = this._backfill || [];
      this._backfill = null;
      if (this._closed) return;
      if (body) {
        (body.gap || []).forEach((g) => this._gap(g, false));
        (body.messages || []).forEach((m) => this._deliver(m, null, false));
        if (body.cursor && !this._cursor.size) this._cursor = mergeCursor(this._cursor, body.cursor);
      }
      queued.forEach((msg) => this._fromLeader(msg));
    });
  }
  _fromLeader(msg) {
    if (this._closed) return;
    if (this.role === "leader" || this.role === "solo") {
      if (msg.k === "ask") this._broadcastState();
      return;
    }
    if (this._backfill && msg.k === "frame") {
      this._backfill.push(msg);
      return;
    }
    if (msg.k === "state") {
      if (msg.cursor) this._cursor = mergeCursor(this._cursor, msg.cursor, { monotonic: true });
      this.transport = msg.transport || this.transport;
      if (msg.state === "open") this._everOpen = true;
      this._setState(msg.state === "closed" ? "reconnecting" : msg.state);
      return;
    }
    if (msg.k !== "frame" || !msg.f) return;
    const f = msg.f;
    if (f.type === "message") this._deliver(f, f.cursor, false);
    else if (f.type === "gap") this._gap(f, false);
    else if (f.type === "deleted") safeCall(this.options.onDeleted, this, [f.channel, this]);
  }
  _broadcast(frame) {
    if (this.role === "leader" && this._election) this._election.post({ k: "frame", f: frame });
  }
  _broadcastState() {
    if (this.role === "leader" && this._election) {
      this._election.post({ k: "state", state: this.state, transport: this.transport, cursor: this.cursor });
    }
  }
  // --- reporting -----------------------------------------------------------------------
  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._broadcastState();
    this._emitState();
  }
  _emitState() {
    safeCall(this.options.onState, this, [this.state, { transport: this.transport, role: this.role, session: this.session, subscription: this }]);
  }
  _emitRole() {
    safeCall(this.options.onRole, this, [this.role, this]);
  }
  _error(err) {
    err.transport = err.transport || this.transport;
    safeCall(this.options.onError, this, [err, this]);
  }
  // --- connecting ----------------------------------------------------------------------
  _params(transport) {
    const o = this.options;
    const p = { transport };
    if (this._cursor.size) p.cursor = this.cursor;
    if (!cursorCovers(this._cursor, this.channels)) {
      if (o.last) p.last = o.last;
      else if (o.since) p.since = o.since;
    }
    const sessions = o.session != null ? o.session : this.client.options.sessions;
    if (sessions !== false) {
      const ttl = (this.client.options.sessionTtl || 60) * 1e3;
      if (this.session && this._lastEnded && Date.now() - this._lastEnded > ttl - 5e3) this.session = null;
      p.session = this.session || "new";
    }
    if (transport === "longpoll" || transport === "jsonp") {
      p.timeout = p.session === "new" ? 0 : this._pollTimeout();
    }
    if (o.token) p.token = o.token;
    return p;
  }
  _pollTimeout() {
    const t = this.options.pollTimeout != null ? this.options.pollTimeout : this.client.options.pollTimeout;
    return t != null ? t : 25;
  }
  _connect() {
    if (this._closed || this.role === "follower") return;
    this._stopConnection();
    const transport = this._chain[this._chainAt];
    const id = ++this._attempt;
    const params = this._params(transport);
    this.transport = transport;
    this._hello = false;
    const live = () => id === this._attempt && !this._closed;
    const ctx = {
      url: (extra) => buildSubscribeUrl(this.client.dataMount, this.channels, { ...params, ...extra }),
      fetch: this.client._fetch(),
      credentials: this.client.options.credentials,
      events: this.options.events,
      onFrame: (f) => {
        if (live()) this._frame(f);
      },
      onPoll: (body) => {
        if (live()) this._pollAnswer(body);
      },
      onEnd: (info) => {
        if (live()) this._ended(info);
      }
    };
    this._arm(POLL_LIKE.has(transport) ? (transport === "poll" ? 0 : this._pollTimeout() * 1e3) + POLL_MARGIN : STREAM_CONNECT_TIMEOUT);
    try {
      this._conn = RUNNERS[transport](ctx);
    } catch (e) {
      this._conn = null;
      this._ended({ error: e, unsupported: true });
    }
  }
  _stopConnection() {
    this._attempt++;
    clearTimeout(this._timers.watchdog);
    if (this._conn) {
      const c = this._conn;
      this._conn = null;
      c.close();
      this._lastEnded = Date.now();
    }
  }
  // Watchdog: no frame for `ms` (2 × heartbeat on streams; hold + margin on polls) means the
  // connection is dead even if the browser has not noticed.
  _arm(ms) {
    const id = this._attempt;
    clearTimeout(this._timers.watchdog);
    this._timers.watchdog = setTimeout(() => {
      if (id === this._attempt) this._ended({ error: new Error("no data for " + ms + " ms"), timeout: true });
    }, ms);
  }
  _success() {
    this._everOpen = true;
    this._failures = 0;
    this._tFailures = 0;
    this._worked[this.transport] = true;
    this._setState("open");
  }
  _schedule(delay, state) {
    if (this._closed) return;
    if (state === "reconnecting" && !this._everOpen) state = "connecting";
    if (state) this._setState(state);
    clearTimeout(this._timers.retry);
    this._timers.retry = setTimeout(() => this._connect(), Math.max(0, delay));
  }
  _backoffOptions() {
    const b = this.client.options.backoff || {};
    return { base: b.base, cap: b.cap, random: b.random };
  }
  // --- frames and answers --------------------------------------------------------------
  _frame(f) {
    if (!f || typeof f.type !== "string") return;
    if (this._hello) this._arm(2 * (this.heartbeat || 25) * 1e3);
    switch (f.type) {
      case "hello":
        this._hello = true;
        if (f.session) this.session = f.session;
        if (f.heartbeat > 0) this.heartbeat = f.heartbeat;
        if (f.cursor) this._cursor = mergeCursor(this._cursor, f.cursor);
        this._arm(2 * (this.heartbeat || 25) * 1e3);
        this._success();
        this._broadcastState();
        break;
      case "message":
        this._deliver(f, f.cursor, true);
        break;
      case "gap":
        this._gap(f, true);
        break;
      case "closed":
        this._closedByServer(f.reason || "closed");
        break;
      case "deleted":
        this._deleted(f.channel);
        break;
      case "reconnect":
        if (f.cursor) this._cursor = mergeCursor(this._cursor, f.cursor);
        this._stopConnection();
        this._schedule(f.reason === "max_stream_age" ? 0 : backoffDelay(0, this._backoffOptions()), "reconnecting");
        break;
      default:
        break;
    }
  }
  // Delivers one message once (dedupe by channel + id) and advances the cursor.
  _deliver(m, cursorAfter, share) {
    if (!m || typeof m.channel !== "string" || typeof m.id !== "string") return;
    this._cursor = advanceCursor(this._cursor, m.channel, m.id);
    if (cursorAfter) {
      try {
        this._cursor = mergeCursor(this._cursor, cursorAfter, { monotonic: true });
      } catch (e) {
      }
    }
    if (this._dedupe.seen(m.channel + "\n" + m.id)) return;
    const msg = { channel: m.channel, id: m.id, event: m.event || "message", data: m.data, time: m.time };
    if (share) this._broadcast({ type: "message", ...msg, cursor: this.cursor });
    safeCall(this.options.onMessage, this, [msg, this]);
  }
  _gap(g, share) {
    const gap = { channel: g.channel, requested: g.requested, first_available: g.first_available, reason: g.reason };
    if (share) this._broadcast({ type: "gap", ...gap });
    safeCall(this.options.onGap, this, [gap, this]);
  }
  _closedByServer(reason) {
    if (this._suspended) {
      this._stopConnection();
      return;
    }
    this._finish("closed", holdfastError("subscription closed by the server: " + reason, { code: "closed", reason, fatal: true }), false);
  }
  _deleted(channel) {
    this._stopConnection();
    safeCall(this.options.onDeleted, this, [channel, this]);
    this._broadcast({ type: "deleted", channel });
    if (this.options.reconnectOnDelete === false) {
      this._finish("closed", holdfastError("channel deleted: " + channel, { code: "deleted", channel, fatal: true }), false);
      return;
    }
    this._schedule(backoffDelay(0, this._backoffOptions()), "reconnecting");
  }
  _pollAnswer(body) {
    clearTimeout(this._timers.watchdog);
    this._conn = null;
    this._lastEnded = Date.now();
    if (body.session) this.session = body.session;
    this._success();
    this._broadcastState();
    (body.gap || []).forEach((g) => this._gap(g, true));
    (body.messages || []).forEach((m) => this._deliver(m, null, true));
    if (body.cursor) {
      try {
        this._cursor = mergeCursor(this._cursor, body.cursor);
      } catch (e) {
      }
    }
    if (body.closed) {
      this._closedByServer(String(body.closed));
      return;
    }
    if (body.reconnect) {
      this._schedule(backoffDelay(1, this._backoffOptions()), "reconnecting");
      return;
    }
    const interval = this.options.pollInterval != null ? this.options.pollInterval : 3e3;
    this._schedule(this.transport === "poll" && !body.more ? interval : 0);
  }
  // --- failures ------------------------------------------------------------------------
  _ended(info) {
    const hadHello = this._hello;
    this._stopConnection();
    if (this._closed) return;
    if (info.eof && hadHello && !POLL_LIKE.has(this.transport)) info = { eof: true, dropped: true };
    const status = info.status;
    const code = info.body && info.body.error;
    const message = info.body && info.body.message || info.error && info.error.message || (status ? "HTTP " + status : "connection ended");
    const err = holdfastError(message, { status, code, fatal: false });
    if (status === 404 && code === "unknown_session" || status === 400 && code === "bad_session") {
      this.session = null;
      this._schedule(this._failures++ ? backoffDelay(this._failures - 1, this._backoffOptions()) : 0, "reconnecting");
      return;
    }
    if (status === 409) {
      this._closedByServer("superseded");
      return;
    }
    if (status === 410) {
      const m = /channel (\S+) was deleted/.exec(message);
      this._deleted(m ? m[1] : null);
      return;
    }
    if (status === 400 && code === "bad_cursor") {
      this._error(err);
      this._cursor = /* @__PURE__ */ new Map();
    } else if ([400, 401, 403, 404, 405, 413].includes(status)) {
      err.fatal = true;
      this._finish("closed", err, false);
      return;
    } else {
      this._error(err);
    }
    this._fail(info);
  }
  _fail(info) {
    const t = this.transport;
    this._failures++;
    this._tFailures++;
    const exhausted = info.unsupported || !this._worked[t] && this._tFailures >= 3;
    if (exhausted && this._chainAt < this._chain.length - 1) {
      this._chainAt++;
      this._tFailures = 0;
    }
    if (OPAQUE.has(t) && this._tFailures >= 2) this.session = null;
    let delay = info.dropped && this._failures === 1 ? 0 : backoffDelay(this._failures - 1, this._backoffOptions());
    if (info.retryAfter) delay = Math.max(delay, info.retryAfter * 1e3);
    this._schedule(delay, "reconnecting");
  }
  _finish(state, err, closeSession) {
    this._closed = true;
    if (closeSession && this.session && this.role !== "follower") this.client.closeSession(this.session, { beacon: false });
    this._stopConnection();
    for (const k of Object.keys(this._timers)) clearTimeout(this._timers[k]);
    if (this._election) {
      this._election.stop();
      this._election = null;
    }
    this.client._forget(this);
    if (err) this._error(err);
    this.state = state;
    this._emitState();
  }
  // --- page lifecycle (called by the Client) -------------------------------------------
  // pagehide: close the session with a beacon (the page may be gone before a fetch ends).
  _pageHide() {
    if (this._closed) return;
    this._suspended = true;
    if (this.session && this.role !== "follower") this.client.closeSession(this.session, { beacon: true });
    this.session = null;
    this._stopConnection();
    clearTimeout(this._timers.retry);
  }
  // pageshow from the back/forward cache: connect again (with a new session).
  _pageShow() {
    if (this._closed || !this._suspended) return;
    this._suspended = false;
    if (this.role !== "follower") this._schedule(0, "reconnecting");
  }
};

// src/client.js
var trimSlashes = (s) => s.replace(/\/+$/, "");
var Client = class {
  constructor(options) {
    options = options || {};
    const base = trimSlashes(options.base != null ? String(options.base) : "/push");
    this.options = options;
    this.dataMount = trimSlashes(options.dataMount || base + "/sub");
    this.controlMount = trimSlashes(options.controlMount || base + "/ctl");
    this.subscriptions = [];
    const G = globalThis;
    if (G.addEventListener && G.document) {
      this._onPageHide = () => {
        this.subscriptions.slice().forEach((s) => s._pageHide());
      };
      this._onPageShow = (ev) => {
        if (ev.persisted) this.subscriptions.slice().forEach((s) => s._pageShow());
      };
      G.addEventListener("pagehide", this._onPageHide);
      G.addEventListener("pageshow", this._onPageShow);
    }
  }
  // The fetch to use: options.fetch, else the global one bound to globalThis, else null (XHR).
  _fetch() {
    const f = this.options.fetch || globalThis.fetch;
    return f ? this.options.fetch ? f : f.bind(globalThis) : null;
  }
  /** Subscribes to one channel or several (array or "a,b"); returns a Subscription. Throws
   *  TypeError on a bad channel name or transport. */
  subscribe(channels, options) {
    const sub = new Subscription(this, channels, options);
    if (!sub._closed) this.subscriptions.push(sub);
    return sub;
  }
  _forget(sub) {
    const i = this.subscriptions.indexOf(sub);
    if (i >= 0) this.subscriptions.splice(i, 1);
  }
  /** Publishes `data` (JSON-encoded; options.raw sends a string body as text) to a channel
   *  (or several); options.event names the event, options.key overrides the client's key.
   *  Resolves with the server's JSON answer plus `status` (201 delivered, 202 buffered);
   *  rejects with an Error carrying status, code and message. */
  publish(channel, data, options) {
    options = options || {};
    const channels = normalizeChannels(channel);
    let url = this.controlMount + "/pub/" + channels.join(",");
    if (options.event) url += "?event=" + encodeURIComponent(options.event);
    const raw = options.raw && typeof data === "string";
    const headers = { "Content-Type": raw ? "text/plain; charset=utf-8" : "application/json" };
    const key = options.key || this.options.key;
    if (key) headers.Authorization = "Bearer " + key;
    const body = raw ? data : JSON.stringify(data === void 0 ? null : data);
    return httpRequest(this._fetch(), "POST", url, { headers, body, credentials: this.options.credentials }).then((res) => {
      const json = readJsonSafe(res.text);
      if (res.status !== 201 && res.status !== 202) {
        throw holdfastError(
          json && json.message || "publish failed: HTTP " + res.status,
          { status: res.status, code: json && json.error }
        );
      }
      const out = json && typeof json === "object" ? json : {};
      out.status = res.status;
      return out;
    });
  }
  /** Closes a server session (POST <ctl>/session/ID/close). beacon:true uses sendBeacon,
   *  which survives page unload; otherwise fetch with keepalive. Fire and forget. */
  closeSession(id, options) {
    const url = this.controlMount + "/session/" + encodeURIComponent(id) + "/close";
    const nav = globalThis.navigator;
    if (options && options.beacon && nav && nav.sendBeacon) {
      try {
        if (nav.sendBeacon(url)) return;
      } catch (e) {
      }
    }
    const f = this._fetch();
    if (f) f(url, { method: "POST", keepalive: true, credentials: this.options.credentials || "same-origin" }).catch(() => {
    });
  }
  /** Closes every subscription of this client and removes its page listeners. */
  close() {
    this.subscriptions.slice().forEach((s) => s.close());
    if (this._onPageHide) {
      globalThis.removeEventListener("pagehide", this._onPageHide);
      globalThis.removeEventListener("pageshow", this._onPageShow);
    }
  }
};

// src/version.js
var VERSION = "0.1.0";

// src/index.js
var TRANSPORTS = TRANSPORT_NAMES.slice();
var Holdfast = {
  VERSION,
  Client,
  Subscription,
  TRANSPORTS,
  isValidChannel,
  normalizeChannels,
  parseId,
  compareSeq,
  parseCursor,
  formatCursor,
  mergeCursor,
  advanceCursor,
  cursorCovers,
  backoffCeiling,
  backoffDelay,
  createSseParser,
  createLineParser,
  createMultipartParser,
  multipartBoundary,
  parseFrame,
  createDedupe,
  buildSubscribeUrl,
  autoChain,
  isValidCallback
};
var index_default = Holdfast;
export {
  Client,
  Subscription,
  TRANSPORTS,
  VERSION,
  advanceCursor,
  autoChain,
  backoffCeiling,
  backoffDelay,
  buildSubscribeUrl,
  compareSeq,
  createDedupe,
  createLineParser,
  createMultipartParser,
  createSseParser,
  cursorCovers,
  index_default as default,
  formatCursor,
  isValidCallback,
  isValidChannel,
  mergeCursor,
  multipartBoundary,
  normalizeChannels,
  parseCursor,
  parseFrame,
  parseId
};
