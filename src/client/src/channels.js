// Channel names, JSONP callback names and subscribe URLs (pure; no DOM, no timers).

const CHANNEL_RE = /^[A-Za-z0-9_.~@-]{1,128}$/;
const CALLBACK_RE = /^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$/;

/** True for a valid channel name: 1–128 chars of [A-Za-z0-9_.~@-]. */
export function isValidChannel(name) {
  return typeof name === 'string' && CHANNEL_RE.test(name);
}

/** True for a callback name the server accepts for jsonp/iframe (`^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$`). */
export function isValidCallback(name) {
  return CALLBACK_RE.test(name);
}

/** A list of channel names from "a", "a,b" or ["a","b"] (duplicates dropped); throws
 *  TypeError on a bad name or an empty list. */
export function normalizeChannels(channels) {
  const list = Array.isArray(channels) ? channels.slice() : String(channels).split(',');
  const out = [];
  for (const item of list) {
    const name = String(item).trim();
    if (!isValidChannel(name)) throw new TypeError('Holdfast: bad channel name ' + JSON.stringify(name));
    if (!out.includes(name)) out.push(name);
  }
  if (!out.length) throw new TypeError('Holdfast: no channel given');
  return out;
}

/** URL of a subscribe request: `<mount>/<ch,ch2>?k=v&...` (undefined/null/'' values left out). */
export function buildSubscribeUrl(dataMount, channels, params) {
  const url = String(dataMount).replace(/\/+$/, '') + '/' + channels.join(',');
  const query = [];
  for (const k of Object.keys(params || {})) {
    const v = params[k];
    if (v === undefined || v === null || v === '') continue;
    query.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
  }
  return query.length ? url + '?' + query.join('&') : url;
}
