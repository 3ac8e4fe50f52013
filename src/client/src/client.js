// Client: configuration (mounts, sessions, backoff, fetch), subscribe, publish, session close,
// and the page's pagehide/pageshow handling for all its subscriptions.
import { normalizeChannels } from './channels.js';
import { holdfastError } from './errors.js';
import { httpRequest, readJsonSafe } from './http.js';
import { Subscription } from './subscription.js';

const trimSlashes = (s) => s.replace(/\/+$/, '');

/** A Holdfast client: `new Client({base, dataMount, controlMount, shareTabs, sessions,
 *  pollTimeout, sessionTtl, backoff: {base, cap, random}, credentials, key, fetch})` — see
 *  docs/client.md. In a page it listens to pagehide/pageshow until close(). */
export class Client {
  constructor(options) {
    options = options || {};
    const base = trimSlashes(options.base != null ? String(options.base) : '/push');
    this.options = options;
    this.dataMount = trimSlashes(options.dataMount || base + '/sub');
    this.controlMount = trimSlashes(options.controlMount || base + '/ctl');
    this.subscriptions = [];
    const G = globalThis;
    if (G.addEventListener && G.document) {
      this._onPageHide = () => { this.subscriptions.slice().forEach((s) => s._pageHide()); };
      this._onPageShow = (ev) => {
        if (ev.persisted) this.subscriptions.slice().forEach((s) => s._pageShow());
      };
      G.addEventListener('pagehide', this._onPageHide);
      G.addEventListener('pageshow', this._onPageShow);
    }
  }

  // The fetch to use: options.fetch, else the global one bound to globalThis, else null (XHR).
  _fetch() {
    const f = this.options.fetch || globalThis.fetch;
    return f ? (this.options.fetch ? f : f.bind(globalThis)) : null;
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
    let url = this.controlMount + '/pub/' + channels.join(',');
    if (options.event) url += '?event=' + encodeURIComponent(options.event);
    const raw = options.raw && typeof data === 'string';
    const headers = { 'Content-Type': raw ? 'text/plain; charset=utf-8' : 'application/json' };
    const key = options.key || this.options.key;
    if (key) headers.Authorization = 'Bearer ' + key;
    const body = raw ? data : JSON.stringify(data === undefined ? null : data);
    return httpRequest(this._fetch(), 'POST', url, { headers, body, credentials: this.options.credentials })
      .then((res) => {
        const json = readJsonSafe(res.text);
        if (res.status !== 201 && res.status !== 202) {
          throw holdfastError((json && json.message) || 'publish failed: HTTP ' + res.status,
            { status: res.status, code: json && json.error });
        }
        const out = json && typeof json === 'object' ? json : {};
        out.status = res.status;
        return out;
      });
  }

  /** Closes a server session (POST <ctl>/session/ID/close). beacon:true uses sendBeacon,
   *  which survives page unload; otherwise fetch with keepalive. Fire and forget. */
  closeSession(id, options) {
    const url = this.controlMount + '/session/' + encodeURIComponent(id) + '/close';
    const nav = globalThis.navigator;
    if (options && options.beacon && nav && nav.sendBeacon) {
      try { if (nav.sendBeacon(url)) return; } catch { /* fall through to fetch */ }
    }
    const f = this._fetch();
    if (f) f(url, { method: 'POST', keepalive: true, credentials: this.options.credentials || 'same-origin' }).catch(() => {});
  }

  /** Closes every subscription of this client and removes its page listeners. */
  close() {
    this.subscriptions.slice().forEach((s) => s.close());
    if (this._onPageHide) {
      globalThis.removeEventListener('pagehide', this._onPageHide);
      globalThis.removeEventListener('pageshow', this._onPageShow);
    }
  }
}
