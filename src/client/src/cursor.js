// Message ids and compound cursors ("ch:EPOCH-SEQ,..."): parse, format, merge, advance.
// Pure; sequences stay decimal strings so they are exact up to 2^64.
import { isValidChannel } from './channels.js';

const EPOCH_RE = /^[A-Za-z0-9_-]{1,32}$/;
const SEQ_RE = /^[0-9]{1,20}$/;

const stripZeros = (s) => String(s).replace(/^0+(?=\d)/, '');

/** "EPOCH-SEQ" → {epoch, seq} (seq a decimal string without leading zeros), or null.
 *  Epochs are base64url tokens and may contain '-', so the sequence is after the last '-'. */
export function parseId(id) {
  if (typeof id !== 'string') return null;
  const dash = id.lastIndexOf('-');
  if (dash <= 0) return null;
  const epoch = id.slice(0, dash);
  const seq = id.slice(dash + 1);
  if (!EPOCH_RE.test(epoch) || !SEQ_RE.test(seq)) return null;
  return { epoch, seq: stripZeros(seq) };
}

/** Compares two decimal sequence strings numerically (uint64-safe): -1, 0 or 1. */
export function compareSeq(a, b) {
  a = stripZeros(a);
  b = stripZeros(b);
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** "ch:EPOCH-SEQ,ch2:EPOCH-SEQ" → Map channel → {epoch, seq}. Empty/absent → empty Map.
 *  Throws TypeError naming the bad entry (cursors come from the server; a bad one is a bug). */
export function parseCursor(text) {
  const map = new Map();
  if (text == null || text === '') return map;
  String(text).split(',').forEach((raw, i) => {
    const entry = raw.trim();
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    const pos = colon > 0 ? parseId(entry.slice(colon + 1)) : null;
    if (!isValidChannel(name) || !pos) {
      throw new TypeError('Holdfast: bad cursor entry ' + (i + 1) + ' ' + JSON.stringify(entry));
    }
    map.set(name, pos);
  });
  return map;
}

// A cursor given as a Map is used as is; a string is parsed.
const toCursor = (c) => (c instanceof Map ? c : parseCursor(c));

/** Map (or cursor string) → "ch:EPOCH-SEQ,..."; entries for `order` (channel list) first, in
 *  that order. */
export function formatCursor(cursor, order) {
  cursor = toCursor(cursor);
  const parts = [];
  const done = new Set();
  for (const ch of order || []) {
    const p = cursor.get(ch);
    if (p && !done.has(ch)) { parts.push(ch + ':' + p.epoch + '-' + p.seq); done.add(ch); }
  }
  cursor.forEach((p, ch) => {
    if (!done.has(ch)) parts.push(ch + ':' + p.epoch + '-' + p.seq);
  });
  return parts.join(',');
}

/** A new cursor: `base` with every entry of `update` applied. Channels only in `base` stay.
 *  monotonic=false (cursors the server sends: hello, poll answers, reconnect) — the update
 *  wins, even backwards (the server knows best, e.g. after a gap with reason "unknown").
 *  monotonic=true (positions learnt from message ids, other tabs) — within one epoch the
 *  higher sequence wins; a different epoch replaces. */
export function mergeCursor(base, update, options) {
  const monotonic = !!(options && options.monotonic);
  const out = new Map(toCursor(base));
  toCursor(update).forEach((p, ch) => {
    const old = out.get(ch);
    if (monotonic && old && old.epoch === p.epoch && compareSeq(old.seq, p.seq) > 0) return;
    out.set(ch, { epoch: p.epoch, seq: p.seq });
  });
  return out;
}

/** Advances one channel's entry to message `id` (monotonic); returns a new Map. Bad ids leave
 *  it unchanged. */
export function advanceCursor(cursor, channel, id) {
  const pos = parseId(id);
  if (!pos || !isValidChannel(channel)) return new Map(toCursor(cursor));
  return mergeCursor(cursor, new Map([[channel, pos]]), { monotonic: true });
}

/** True when every channel of `channels` has an entry in `cursor`. */
export function cursorCovers(cursor, channels) {
  cursor = toCursor(cursor);
  return channels.every((ch) => cursor.has(ch));
}
