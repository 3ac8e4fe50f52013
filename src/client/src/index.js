// The Holdfast browser client's public API (ES module entry). The named exports and the
// default export (one object with all of them, which the classic bundle puts on
// globalThis.Holdfast) are the same values. See docs/client.md.
import { backoffCeiling, backoffDelay } from './backoff.js';
import { buildSubscribeUrl, isValidCallback, isValidChannel, normalizeChannels } from './channels.js';
import { Client } from './client.js';
import { advanceCursor, compareSeq, cursorCovers, formatCursor, mergeCursor, parseCursor, parseId } from './cursor.js';
import { createDedupe } from './dedupe.js';
import { parseFrame } from './parsers/frame.js';
import { createLineParser } from './parsers/lines.js';
import { createMultipartParser, multipartBoundary } from './parsers/multipart.js';
import { createSseParser } from './parsers/sse.js';
import { TRANSPORT_NAMES, autoChain } from './runners/index.js';
import { Subscription } from './subscription.js';
import { VERSION } from './version.js';

/** The transport names a subscription accepts besides 'auto' (a copy; changing it changes
 *  nothing). */
export const TRANSPORTS = TRANSPORT_NAMES.slice();

export {
  VERSION, Client, Subscription,
  isValidChannel, normalizeChannels, parseId, compareSeq,
  parseCursor, formatCursor, mergeCursor, advanceCursor, cursorCovers,
  backoffCeiling, backoffDelay,
  createSseParser, createLineParser, createMultipartParser, multipartBoundary, parseFrame,
  createDedupe, buildSubscribeUrl, autoChain, isValidCallback
};

/** Every export in one object: what `<script src="holdfast.js">` defines as `Holdfast`. */
const Holdfast = {
  VERSION, Client, Subscription, TRANSPORTS,
  isValidChannel, normalizeChannels, parseId, compareSeq,
  parseCursor, formatCursor, mergeCursor, advanceCursor, cursorCovers,
  backoffCeiling, backoffDelay,
  createSseParser, createLineParser, createMultipartParser, multipartBoundary, parseFrame,
  createDedupe, buildSubscribeUrl, autoChain, isValidCallback
};
export default Holdfast;
