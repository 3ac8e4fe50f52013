// Subscription: connects, parses, resumes; one connection (or a share of a leader tab's) and
// one compound cursor for all its channels. States (onState):
//   connecting   — first connection attempt under way
//   open         — a stream said hello / a poll was answered (followers: the leader is open)
//   reconnecting — the connection ended; waiting (backoff) or connecting again
//   closed       — close() was called, or the server ended it for good (closed/fatal)
import { backoffDelay } from './backoff.js';
import { buildSubscribeUrl, normalizeChannels } from './channels.js';
import { advanceCursor, cursorCovers, formatCursor, mergeCursor, parseCursor } from './cursor.js';
import { createDedupe } from './dedupe.js';
import { holdfastError, safeCall } from './errors.js';
import { httpRequest, readJsonSafe } from './http.js';
import { OPAQUE, POLL_LIKE, RUNNERS, TRANSPORT_NAMES, autoChain } from './runners/index.js';
import { TabElection } from './tab_election.js';

const STREAM_CONNECT_TIMEOUT = 15000;
const POLL_MARGIN = 10000;

/** One subscription to one or more channels; made by Client.subscribe (see docs/client.md).
 *  Callbacks in `options` are called from the network's and timers' events, never from the
 *  constructor's stack except onState('connecting') and onRole('solo'). */
export class Subscription {
  /** Use client.subscribe(channels, options). Throws TypeError on a bad channel name or an
   *  unknown transport. */
  constructor(client, channels, options) {
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
    const requested = options.transport || 'auto';
    if (requested !== 'auto' && !TRANSPORT_NAMES.includes(requested)) throw new TypeError('Holdfast: unknown transport ' + requested);
    this._chain = requested === 'auto' ? autoChain(globalThis) : [requested];
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

  /** The compound cursor, "ch:EPOCH-SEQ,...", this subscription's channels first. */
  get cursor() {
    return formatCursor(this._cursor, this.channels);
  }

  /** Ends the subscription: closes the connection (and the session, if any), leaves the tab
   *  election (a follower takes over), reports 'closed'. Safe to call twice. */
  close() {
    if (this._closed) return;
    this._finish('closed', null, true);
  }

  // --- tab sharing ---------------------------------------------------------------------

  _start() {
    let share = this.options.shareTabs != null ? this.options.shareTabs : this.client.options.shareTabs;
    if (share == null) share = true;
    this._setState('connecting');
    if (!share || !globalThis.BroadcastChannel) { this.role = 'solo'; this._emitRole(); this._connect(); return; }
    this._election = new TabElection('holdfast:' + this.key, {
      lead: () => this._lead(),
      follow: () => this._follow(),
      message: (msg) => this._fromLeader(msg)
    });
    this._election.start();
  }

  _lead() {
    if (this._closed) return;
    const takeover = this.role === 'follower';
    this.role = 'leader';
    this._failures = 0;
    if (takeover) this._setState('reconnecting');
    this._emitRole();
    this._connect();
  }

  _follow() {
    if (this._closed) return;
    const wasLeader = this.role === 'leader';
    this.role = 'follower';
    this._stopConnection();
    clearTimeout(this._timers.retry);
    this._election.post({ k: 'ask' });
    if (!wasLeader && !this._backfilled) this._startBackfill();
    this._emitRole();
  }

  // Follower: fetch the requested history (last/since) once, since the leader's stream started
  // before this tab. Broadcast frames arriving meanwhile wait, so history comes first.
  _startBackfill() {
    const o = this.options;
    this._backfilled = true;
    if (!o.last && !o.since && !o.cursor) return;
    const params = { transport: 'poll' };
    if (o.cursor) params.cursor = formatCursor(o.cursor, this.channels); // not the leader's: history is the point
    if (o.last) params.last = o.last; else if (o.since) params.since = o.since;
    if (o.token) params.token = o.token;
    this._backfill = [];
    const url = buildSubscribeUrl(this.client.dataMount, this.channels, params);
    httpRequest(this.client._fetch(), 'GET', url, { credentials: this.client.options.credentials })
      .then((res) => (res.status === 200 ? readJsonSafe(res.text) : null), () => null)
      .then((body) => {
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
    const f = msg.f;
    if (f.type === 'message') this._deliver(f, f.cursor, false);
    else if (f.type === 'gap') this._gap(f, false);
    else if (f.type === 'deleted') safeCall(this.options.onDeleted, this, [f.channel, this]);
  }

  _broadcast(frame) {
    if (this.role === 'leader' && this._election) this._election.post({ k: 'frame', f: frame });
  }

  _broadcastState() {
    if (this.role === 'leader' && this._election) {
      this._election.post({ k: 'state', state: this.state, transport: this.transport, cursor: this.cursor });
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
      if (o.last) p.last = o.last; else if (o.since) p.since = o.since;
    }
    const sessions = o.session != null ? o.session : this.client.options.sessions;
    if (sessions !== false) {
      const ttl = (this.client.options.sessionTtl || 60) * 1000;
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
  }

  _pollTimeout() {
    const t = this.options.pollTimeout != null ? this.options.pollTimeout : this.client.options.pollTimeout;
    return t != null ? t : 25;
  }

  _connect() {
    if (this._closed || this.role === 'follower') return;
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
      onFrame: (f) => { if (live()) this._frame(f); },
      onPoll: (body) => { if (live()) this._pollAnswer(body); },
      onEnd: (info) => { if (live()) this._ended(info); }
    };
    this._arm(POLL_LIKE.has(transport) ? (transport === 'poll' ? 0 : this._pollTimeout() * 1000) + POLL_MARGIN : STREAM_CONNECT_TIMEOUT);
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
    if (this._conn) { const c = this._conn; this._conn = null; c.close(); this._lastEnded = Date.now(); }
  }

  // Watchdog: no frame for `ms` (2 × heartbeat on streams; hold + margin on polls) means the
  // connection is dead even if the browser has not noticed.
  _arm(ms) {
    const id = this._attempt;
    clearTimeout(this._timers.watchdog);
    this._timers.watchdog = setTimeout(() => {
      if (id === this._attempt) this._ended({ error: new Error('no data for ' + ms + ' ms'), timeout: true });
    }, ms);
  }

  _success() {
    this._everOpen = true;
    this._failures = 0;
    this._tFailures = 0;
    this._worked[this.transport] = true;
    this._setState('open');
  }

  _schedule(delay, state) {
    if (this._closed) return;
    if (state === 'reconnecting' && !this._everOpen) state = 'connecting';
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
  }

  // Delivers one message once (dedupe by channel + id) and advances the cursor.
  _deliver(m, cursorAfter, share) {
    if (!m || typeof m.channel !== 'string' || typeof m.id !== 'string') return;
    this._cursor = advanceCursor(this._cursor, m.channel, m.id);
    if (cursorAfter) {
      try { this._cursor = mergeCursor(this._cursor, cursorAfter, { monotonic: true }); } catch { /* keep the id-based position */ }
    }
    if (this._dedupe.seen(m.channel + '\n' + m.id)) return;
    const msg = { channel: m.channel, id: m.id, event: m.event || 'message', data: m.data, time: m.time };
    if (share) this._broadcast({ type: 'message', ...msg, cursor: this.cursor });
    safeCall(this.options.onMessage, this, [msg, this]);
  }

  _gap(g, share) {
    const gap = { channel: g.channel, requested: g.requested, first_available: g.first_available, reason: g.reason };
    if (share) this._broadcast({ type: 'gap', ...gap });
    safeCall(this.options.onGap, this, [gap, this]);
  }

  _closedByServer(reason) {
    if (this._suspended) { this._stopConnection(); return; } // our own pagehide beacon
    this._finish('closed', holdfastError('subscription closed by the server: ' + reason, { code: 'closed', reason, fatal: true }), false);
  }

  _deleted(channel) {
    this._stopConnection();
    safeCall(this.options.onDeleted, this, [channel, this]);
    this._broadcast({ type: 'deleted', channel });
    if (this.options.reconnectOnDelete === false) {
      this._finish('closed', holdfastError('channel deleted: ' + channel, { code: 'deleted', channel, fatal: true }), false);
      return;
    }
    this._schedule(backoffDelay(0, this._backoffOptions()), 'reconnecting');
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
      try { this._cursor = mergeCursor(this._cursor, body.cursor); } catch { /* keep ours */ }
    }
    if (body.closed) { this._closedByServer(String(body.closed)); return; }
    if (body.reconnect) { this._schedule(backoffDelay(1, this._backoffOptions()), 'reconnecting'); return; }
    const interval = this.options.pollInterval != null ? this.options.pollInterval : 3000;
    this._schedule(this.transport === 'poll' && !body.more ? interval : 0);
  }

  // --- failures ------------------------------------------------------------------------

  _ended(info) {
    const hadHello = this._hello;
    this._stopConnection();
    if (this._closed) return;
    if (info.eof && hadHello && !POLL_LIKE.has(this.transport)) info = { eof: true, dropped: true };
    const status = info.status;
    const code = info.body && info.body.error;
    const message = (info.body && info.body.message) || (info.error && info.error.message) || (status ? 'HTTP ' + status : 'connection ended');
    const err = holdfastError(message, { status, code, fatal: false });
    if ((status === 404 && code === 'unknown_session') || (status === 400 && code === 'bad_session')) {
      this.session = null;
      this._schedule(this._failures++ ? backoffDelay(this._failures - 1, this._backoffOptions()) : 0, 'reconnecting');
      return;
    }
    if (status === 409) { this._closedByServer('superseded'); return; }
    if (status === 410) {
      const m = /channel (\S+) was deleted/.exec(message);
      this._deleted(m ? m[1] : null);
      return;
    }
    if (status === 400 && code === 'bad_cursor') {
      this._error(err);
      this._cursor = new Map();
    } else if ([400, 401, 403, 404, 405, 413].includes(status)) {
      err.fatal = true;
      this._finish('closed', err, false);
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
    const exhausted = info.unsupported || (!this._worked[t] && this._tFailures >= 3);
    if (exhausted && this._chainAt < this._chain.length - 1) {
      this._chainAt++;
      this._tFailures = 0;
    }
    if (OPAQUE.has(t) && this._tFailures >= 2) this.session = null; // maybe expired; we cannot tell
    let delay = info.dropped && this._failures === 1 ? 0 : backoffDelay(this._failures - 1, this._backoffOptions());
    if (info.retryAfter) delay = Math.max(delay, info.retryAfter * 1000);
    this._schedule(delay, 'reconnecting');
  }

  _finish(state, err, closeSession) {
    this._closed = true;
    if (closeSession && this.session && this.role !== 'follower') this.client.closeSession(this.session, { beacon: false });
    this._stopConnection();
    for (const k of Object.keys(this._timers)) clearTimeout(this._timers[k]);
    if (this._election) { this._election.stop(); this._election = null; }
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
    if (this.session && this.role !== 'follower') this.client.closeSession(this.session, { beacon: true });
    this.session = null;
    this._stopConnection();
    clearTimeout(this._timers.retry);
  }

  // pageshow from the back/forward cache: connect again (with a new session).
  _pageShow() {
    if (this._closed || !this._suspended) return;
    this._suspended = false;
    if (this.role !== 'follower') this._schedule(0, 'reconnecting');
  }
}
