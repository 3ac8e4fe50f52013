/// <reference lib="es2015" />
/// <reference lib="dom" />
// Type declarations of the Holdfast browser client (hand-written; dist/holdfast.mjs and the
// `Holdfast` global of dist/holdfast.js have this API). See docs/client.md.

/** Version of the Holdfast client (the project's version, e.g. "0.1.0"). */
export declare const VERSION: string;

/** A transport name besides 'auto' (the server's `transport=` values). */
export type Transport = 'sse' | 'longpoll' | 'jsonp' | 'iframe' | 'multipart' | 'ndjson' | 'poll';

/** The transport names a subscription accepts besides 'auto' (a copy; changing it changes nothing). */
export declare const TRANSPORTS: Transport[];

/** Subscription states: see docs/client.md ("States"). */
export type SubscriptionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A tab's part in tab sharing: its own connection, the shared one, or a listener. */
export type Role = 'solo' | 'leader' | 'follower';

/** One channel position: epoch and sequence (a decimal string, exact up to 2^64). */
export interface Position {
  epoch: string;
  seq: string;
}

/** A compound cursor: channel → position. */
export type Cursor = Map<string, Position>;

/** A cursor as a Map or as its text form "ch:EPOCH-SEQ,...". */
export type CursorLike = Cursor | string;

/** A delivered message. */
export interface Message<T = unknown> {
  /** The channel it was published to. */
  channel: string;
  /** Its id, "EPOCH-SEQ". */
  id: string;
  /** Its event name ('message' unless published with ?event=). */
  event: string;
  /** The published JSON value, or a string for non-JSON bodies. */
  data: T;
  /** Publish time, ms since 1970 (server clock). */
  time: number;
}

/** The server could not resume exactly: what was asked and what is available. */
export interface Gap {
  channel: string;
  requested: string;
  first_available: string;
  reason: 'evicted' | 'epoch' | 'unknown' | string;
}

/** An error reported by the client (onError, publish rejections). */
export interface HoldfastError extends Error {
  name: 'HoldfastError' | string;
  /** HTTP status, when there was one. */
  status?: number;
  /** The server's `error` code (e.g. 'bad_cursor', 'closed', 'deleted'). */
  code?: string;
  /** True when the subscription ended because of it. */
  fatal?: boolean;
  /** Transport of the connection that failed. */
  transport?: Transport;
  /** Reason of a `closed` frame ('superseded', ...). */
  reason?: string;
  /** The deleted channel (code 'deleted'). */
  channel?: string;
}

/** What onState is told besides the state. */
export interface StateInfo {
  transport: Transport | null;
  role: Role | null;
  session: string | null;
  subscription: Subscription;
}

/** Reconnect backoff options (ms); `random` (default Math.random) can be injected. */
export interface BackoffOptions {
  base?: number;
  cap?: number;
  random?: () => number;
}

/** A fetch implementation (the global fetch's signature). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Options of `new Client(options)`; defaults in docs/client.md. */
export interface ClientOptions {
  /** Prefix of both mounts (default '/push'); may be an absolute URL. */
  base?: string;
  /** URL of the data socket's mount (default base + '/sub'). */
  dataMount?: string;
  /** URL of the control socket's mount (default base + '/ctl'). */
  controlMount?: string;
  /** One connection per channel set among this origin's tabs (default true). */
  shareTabs?: boolean;
  /** Ask for a server session and reuse it (default true). */
  sessions?: boolean;
  /** The server's session_ttl, seconds (default 60). */
  sessionTtl?: number;
  /** Long-poll / JSONP hold requested with timeout=, seconds (default 25). */
  pollTimeout?: number;
  /** Reconnect backoff (default base 1000, cap 30000). */
  backoff?: BackoffOptions;
  /** fetch credentials mode (default 'same-origin'). */
  credentials?: RequestCredentials;
  /** Authorization: Bearer key for publish (server code only, never in a page). */
  key?: string;
  /** A fetch implementation (default globalThis.fetch). */
  fetch?: FetchLike;
}

/** Options of `client.subscribe(channels, options)`; see docs/client.md. */
export interface SubscribeOptions<T = unknown> {
  /** 'auto' (default) or one transport. */
  transport?: Transport | 'auto';
  /** On the first connect, the last N buffered messages of each channel. */
  last?: number;
  /** 'oldest': everything buffered, on the first connect. */
  since?: 'oldest';
  /** Resume from a saved cursor (`sub.cursor` of an earlier subscription). */
  cursor?: CursorLike;
  /** Each message, once. */
  onMessage?: (message: Message<T>, subscription: Subscription) => void;
  /** A gap report, before the messages that follow it. */
  onGap?: (gap: Gap, subscription: Subscription) => void;
  /** State changes. */
  onState?: (state: SubscriptionState, info: StateInfo) => void;
  /** This tab's role in tab sharing. */
  onRole?: (role: Role, subscription: Subscription) => void;
  /** Failures; err.fatal is true when the subscription ended. */
  onError?: (error: HoldfastError, subscription: Subscription) => void;
  /** A channel's history was deleted on the server (null when the server did not say which). */
  onDeleted?: (channel: string | null, subscription: Subscription) => void;
  /** Subscribe again after a delete (default true). */
  reconnectOnDelete?: boolean;
  /** SSE only: custom event names published with ?event=. */
  events?: string[];
  /** ms between requests of the poll transport (default 3000). */
  pollInterval?: number;
  /** How many recent message ids are remembered to drop resends (default 1000). */
  dedupeWindow?: number;
  /** Subscribe token(s) for private channels. */
  token?: string;
  /** Per-subscription override of the client's shareTabs. */
  shareTabs?: boolean;
  /** Per-subscription override of the client's sessions. */
  session?: boolean;
  /** Per-subscription override of the client's pollTimeout. */
  pollTimeout?: number;
}

/** Options of `client.publish`. */
export interface PublishOptions {
  /** Event name (?event=). */
  event?: string;
  /** Send a string body as text/plain instead of JSON. */
  raw?: boolean;
  /** Publish key for this request (overrides the client's). */
  key?: string;
}

/** The server's answer to a publish, plus the HTTP status (201 delivered, 202 buffered). */
export interface PublishResult {
  channel?: string;
  id?: string;
  subscribers?: number;
  status: number;
  [field: string]: unknown;
}

/** Options of `client.closeSession`. */
export interface CloseSessionOptions {
  /** Use navigator.sendBeacon (survives page unload) instead of fetch. */
  beacon?: boolean;
}

/** One subscription to one or more channels: one connection and one compound cursor. */
export declare class Subscription {
  /** Use client.subscribe(channels, options). */
  constructor(client: Client, channels: string | string[], options?: SubscribeOptions<any>);
  /** The client it belongs to. */
  readonly client: Client;
  /** Its channels, normalized. */
  readonly channels: string[];
  /** The options it was made with. */
  readonly options: SubscribeOptions<any>;
  /** Current state. */
  readonly state: SubscriptionState;
  /** Role in tab sharing, once known. */
  readonly role: Role | null;
  /** Transport of the current (or last) connection. */
  readonly transport: Transport | null;
  /** Server session id, once known. */
  readonly session: string | null;
  /** Heartbeat interval (s) from the last hello. */
  readonly heartbeat: number | null;
  /** The compound cursor "ch:EPOCH-SEQ,..."; can be saved and passed back as `cursor`. */
  readonly cursor: string;
  /** Ends the subscription (closes its session; a follower tab takes over). Safe to call twice. */
  close(): void;
}

/** A Holdfast client: subscribe, publish, close sessions. */
export declare class Client {
  /** Makes a client; in a page it listens to pagehide/pageshow until close(). */
  constructor(options?: ClientOptions);
  /** The options it was made with. */
  readonly options: ClientOptions;
  /** URL of the data mount. */
  readonly dataMount: string;
  /** URL of the control mount. */
  readonly controlMount: string;
  /** Its open subscriptions. */
  readonly subscriptions: Subscription[];
  /** Subscribes to one channel or several ("a,b" or an array); throws TypeError on a bad name. */
  subscribe<T = unknown>(channels: string | string[], options?: SubscribeOptions<T>): Subscription;
  /** Publishes `data` to one channel or several; rejects with a HoldfastError. */
  publish(channel: string | string[], data: unknown, options?: PublishOptions): Promise<PublishResult>;
  /** Closes a server session (fire and forget). */
  closeSession(id: string, options?: CloseSessionOptions): void;
  /** Closes every subscription and removes the page listeners. */
  close(): void;
}

/** True for a valid channel name: 1–128 chars of [A-Za-z0-9_.~@-]. */
export declare function isValidChannel(name: unknown): name is string;
/** A list of channel names from "a", "a,b" or ["a","b"]; throws TypeError on a bad name. */
export declare function normalizeChannels(channels: string | string[]): string[];
/** "EPOCH-SEQ" → {epoch, seq}, or null. */
export declare function parseId(id: unknown): Position | null;
/** Compares two decimal sequence strings numerically: -1, 0 or 1. */
export declare function compareSeq(a: string | number, b: string | number): -1 | 0 | 1;
/** "ch:EPOCH-SEQ,..." → Map; throws TypeError on a bad entry. */
export declare function parseCursor(text: string | null | undefined): Cursor;
/** Cursor → "ch:EPOCH-SEQ,...", entries of `order` first. */
export declare function formatCursor(cursor: CursorLike, order?: string[]): string;
/** `base` with `update` applied (monotonic: within an epoch only forward). */
export declare function mergeCursor(base: CursorLike, update: CursorLike, options?: { monotonic?: boolean }): Cursor;
/** Advances one channel to message `id` (forward only). */
export declare function advanceCursor(cursor: CursorLike, channel: string, id: string): Cursor;
/** True when every channel has an entry in `cursor`. */
export declare function cursorCovers(cursor: CursorLike, channels: string[]): boolean;
/** min(cap, base·2^attempt), ms. */
export declare function backoffCeiling(attempt: number, options?: BackoffOptions): number;
/** Full-jitter delay in [0, backoffCeiling(attempt)), ms. */
export declare function backoffDelay(attempt: number, options?: BackoffOptions): number;

/** One server-sent event. */
export interface SseEvent {
  type: string;
  data: string;
  id: string;
}
/** Incremental text/event-stream parser. */
export interface SseParser {
  /** The last retry: value (ms), or null. */
  retry: number | null;
  /** Feeds text; returns the events it completed. */
  push(text: string): SseEvent[];
}
/** Makes an incremental text/event-stream parser. */
export declare function createSseParser(): SseParser;

/** Incremental ndjson line splitter. */
export interface LineParser {
  /** Feeds text; returns the complete non-blank lines. */
  push(text: string): string[];
  /** The unterminated rest, at end of stream. */
  flush(): string[];
}
/** Makes an incremental ndjson line splitter. */
export declare function createLineParser(): LineParser;

/** One multipart body part. */
export interface MultipartPart {
  headers: Record<string, string>;
  body: string;
}
/** Incremental multipart parser. */
export interface MultipartParser {
  /** True once the close delimiter arrived. */
  done: boolean;
  /** Feeds text; returns the parts it completed. */
  push(text: string): MultipartPart[];
}
/** Makes an incremental RFC 2046 multipart parser; throws TypeError without a boundary. */
export declare function createMultipartParser(boundary: string): MultipartParser;
/** The boundary of a multipart Content-Type, or null. */
export declare function multipartBoundary(contentType: string | null | undefined): string | null;

/** A frame of a streaming transport (hello, message, heartbeat, gap, closed, deleted, reconnect). */
export interface Frame {
  type?: string;
  [field: string]: unknown;
}
/** JSON text → frame object, or null when it is not a JSON object. */
export declare function parseFrame(text: string): Frame | null;

/** A bounded seen-set of keys. */
export interface Dedupe {
  /** True if `key` was among the last keys recorded; else records it. */
  seen(key: string): boolean;
  /** True if `key` is recorded (does not record it). */
  has(key: string): boolean;
  /** How many keys are recorded. */
  readonly size: number;
}
/** Makes a bounded seen-set remembering the last `size` keys (default 1000). */
export declare function createDedupe(size?: number): Dedupe;

/** URL of a subscribe request: `<mount>/<ch,ch2>?k=v&...`. */
export declare function buildSubscribeUrl(dataMount: string, channels: string[],
  params?: Record<string, string | number | boolean | null | undefined>): string;
/** The transports 'auto' tries, given a global object. */
export declare function autoChain(env: object): Transport[];
/** True for a callback name the server accepts for jsonp/iframe. */
export declare function isValidCallback(name: string): boolean;

/** Every export in one object: what `<script src="holdfast.js">` defines as `Holdfast`. */
declare const Holdfast: {
  VERSION: typeof VERSION;
  Client: typeof Client;
  Subscription: typeof Subscription;
  TRANSPORTS: typeof TRANSPORTS;
  isValidChannel: typeof isValidChannel;
  normalizeChannels: typeof normalizeChannels;
  parseId: typeof parseId;
  compareSeq: typeof compareSeq;
  parseCursor: typeof parseCursor;
  formatCursor: typeof formatCursor;
  mergeCursor: typeof mergeCursor;
  advanceCursor: typeof advanceCursor;
  cursorCovers: typeof cursorCovers;
  backoffCeiling: typeof backoffCeiling;
  backoffDelay: typeof backoffDelay;
  createSseParser: typeof createSseParser;
  createLineParser: typeof createLineParser;
  createMultipartParser: typeof createMultipartParser;
  multipartBoundary: typeof multipartBoundary;
  parseFrame: typeof parseFrame;
  createDedupe: typeof createDedupe;
  buildSubscribeUrl: typeof buildSubscribeUrl;
  autoChain: typeof autoChain;
  isValidCallback: typeof isValidCallback;
};
export default Holdfast;
