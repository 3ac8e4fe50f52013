// Tab sharing: one tab per (origin, channel set) holds the connection ("leader") and
// rebroadcasts frames on BroadcastChannel('holdfast:' + key); the others ("followers") listen.
// Election: Web Locks when available (the lock holder leads; the queued request of a follower
// is granted when the leader's tab goes away), else a heartbeat election on the same
// BroadcastChannel (lowest tab id wins a claim; silence = leader gone).
// Messages on the channel: {k:'frame'|'state'|'ask'|'hb'|'claim'|'resign', src, ...}.
import { makeAbort } from './http.js';
import { randomId } from './page.js';

const HB_INTERVAL = 1000;
const HB_DEAD = 3500;
const CLAIM_WINDOW = 300;

/** Elects a leader among the tabs that use BroadcastChannel `name`. callbacks: lead() when
 *  this tab becomes leader, follow() when it is (or becomes) a follower, message(msg) for
 *  every other message. Callbacks run from timers and channel events, never from start(). */
export class TabElection {
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
    try { this.bc.postMessage(msg); } catch { /* closed or uncloneable: nothing to share */ }
  }

  /** Leaves the election (a leader resigns, so a follower takes over). Safe to call twice. */
  stop() {
    if (this.stopped) return;
    if (this.leading && !this.useLocks) this.post({ k: 'resign' });
    this.stopped = true;
    this.leading = false;
    for (const k of Object.keys(this.timers)) { clearTimeout(this.timers[k]); clearInterval(this.timers[k]); }
    if (this.lockAbort) this.lockAbort.abort();
    if (this.releaseLock) this.releaseLock();
    try { this.bc.close(); } catch { /* already closed */ }
  }

  _lockStart() {
    const locks = globalThis.navigator.locks;
    const hold = (lock) => {
      if (!lock || this.stopped) return null;
      this.leading = true;
      this.cb.lead();
      return new Promise((resolve) => { this.releaseLock = resolve; });
    };
    locks.request(this.name, { ifAvailable: true }, (lock) => {
      if (lock) return hold(lock);
      if (this.stopped) return null;
      this.cb.follow();
      this.lockAbort = makeAbort();
      locks.request(this.name, { signal: this.lockAbort.signal }, hold).catch(() => {});
      return null;
    }).catch(() => {});
  }

  _hbStart() {
    this.lastHb = 0;
    this.claims = {};
    this.post({ k: 'ask' });
    this._hbWatch(HB_INTERVAL + Math.random() * 500);
  }

  // Follower: become a candidate when no leader heartbeat was heard for `ms`.
  _hbWatch(ms) {
    clearTimeout(this.timers.watch);
    this.timers.watch = setTimeout(() => {
      if (this.stopped || this.leading) return;
      if (Date.now() - this.lastHb < HB_DEAD && this.lastHb) { this._hbWatch(HB_DEAD); return; }
      this._claim();
    }, ms);
  }

  _claim() {
    this.claims = {};
    this.post({ k: 'claim' });
    this.timers.claim = setTimeout(() => {
      if (this.stopped) return;
      const lower = Object.keys(this.claims).some((id) => id < this.id);
      if (lower || Date.now() - this.lastHb < HB_DEAD) { this._hbWatch(HB_DEAD); return; }
      this._hbLead();
    }, CLAIM_WINDOW);
  }

  _hbLead() {
    this.leading = true;
    this.post({ k: 'hb' });
    this.timers.hb = setInterval(() => this.post({ k: 'hb' }), HB_INTERVAL);
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
    if (msg.k === 'hb') {
      this.lastHb = Date.now();
      if (this.leading && msg.src < this.id) this._stepDown(); // split brain: lowest id keeps it
      else if (!this.leading && !this.followed) { this.followed = true; this.cb.follow(); }
      return true;
    }
    if (msg.k === 'claim') {
      this.claims[msg.src] = true;
      if (this.leading) this.post({ k: 'hb' });
      return true;
    }
    if (msg.k === 'resign') {
      this.lastHb = 0;
      if (!this.leading) this._hbWatch(Math.random() * 200);
      return true;
    }
    return false;
  }
}
