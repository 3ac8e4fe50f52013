// ES module entry point of the Holdfast browser client. The logic lives in holdfast.js (a
// plain script that sets globalThis.Holdfast); this file loads it and re-exports that object,
// so `import Holdfast, { Client } from './holdfast.mjs'` and `<script src="holdfast.js">`
// share one implementation. Serve both files from the same directory.
import './holdfast.js';

const Holdfast = globalThis.Holdfast;
export default Holdfast;
export const {
  VERSION, Client, Subscription, TRANSPORTS,
  isValidChannel, normalizeChannels, parseId, compareSeq,
  parseCursor, formatCursor, mergeCursor, advanceCursor, cursorCovers,
  backoffCeiling, backoffDelay,
  createSseParser, createLineParser, createMultipartParser, multipartBoundary, parseFrame,
  createDedupe, buildSubscribeUrl, autoChain, isValidCallback,
} = Holdfast;
