/**
 * The ingest's HTTP origin on uWebSockets.js: LL-HLS from the in-memory live media store (./store.ts), plus
 * `/health`, `/ready`, `/metrics` (Prometheus text; `Authorization: Bearer <METRICS_TOKEN>` when set) and the admins'
 * `/admin/health` (../admin-health.ts). URL grammar: `@eventcast/contracts` hls.ts; details in docs/hls.md.
 *
 * - Blocking playlist reload (RFC 8216bis-16 §6.2.5.2): `<r>.m3u8?_HLS_msn=M[&_HLS_part=P]` is held until the
 *   playlist holds part P of segment M (or segment M, complete, without `_HLS_part`) or anything later, at most three
 *   target durations (then 503, as the spec says for a playlist that does not update in time). `_HLS_msn` more than
 *   two segments past the last complete one → 400; `_HLS_part` more than the Advance Part Limit (3 ÷ PART-TARGET
 *   parts when PART-TARGET < 1 s, else 3) past the last part → 400 (§6.2.5.2, {@link partAdvanceExceeded}). Malformed directives (not a decimal integer, repeated, `_HLS_part`
 *   without `_HLS_msn`, an unknown `_HLS_` name) → 400 with the reason. `_HLS_skip` (delta updates) is not offered
 *   (no CAN-SKIP-UNTIL), so a request carrying it gets the full playlist.
 * - The part named by the playlist's EXT-X-PRELOAD-HINT (the next part) is held until it exists (same bound, then
 *   404); parts further ahead → 404. Held requests of a rendition are answered from ONE store notification per change
 *   (no per-request timers); a single shared sweep timer (while anything is held) expires the overdue ones. One
 *   client address holds at most `maxHeldPerClient` requests (default 100; more → 429), so it cannot fill the
 *   global table (`maxHeldRequests`, then 503) that every viewer shares.
 * - Bodies are in-memory buffers sent with `tryEnd`; a slow reader is resumed from `onWritable` (uWS never buffers
 *   more than the socket takes), and a vanished client (`onAborted`) is dropped from the held set.
 * - Caching: media playlist without directives `no-cache`; with directives `public, max-age=<target duration>` (the
 *   URL names one playlist version or later); parts, segments and init segments (names carry the session epoch and
 *   the init generation) `public, max-age=<window>, immutable`; multivariant `public, max-age=2`; thumbnail
 *   `public, max-age=10`; errors and probes `no-store`.
 * - CORS `*` everywhere; OPTIONS → 204; GET and HEAD; other methods → 405. The raw path is checked before any
 *   decoding: `.`/`..` segments, encoded slashes or backslashes, NUL, malformed percent-encoding → 400; unknown → 404.
 * - Channels not in the store: 404 (the live media live only in memory), unless a peer ingest node holds the channel
 *   (`INGEST_PEER_ORIGINS`, ./peer-origin.ts): then that node's response, fetched and passed on.
 * - Recordings and clips (issue 11; `@eventcast/contracts` vod.ts) from the media storage: `/vod/<broadcastId>/<file>`
 *   (a lowercase uuid and a name of `parseVodFileName`; anything else, `manifest.json` included, → 404) and
 *   `/clips/<clipId>.mp4|.jpg`. Types: playlists `application/vnd.apple.mpegurl`, init segments and clips
 *   `video/mp4`, media segments `video/iso.segment`, pictures `image/jpeg`. Caching: a live recording's playlists
 *   (EVENT, the DVR window) `public, max-age=1`; a finished VOD's playlists, thumbnail and clips
 *   `public, max-age=86400`; segments and init segments `public, max-age=31536000, immutable`. Byte ranges
 *   (RFC 9110 §14) on media and clips: `Range: bytes=a-b | a- | -n` → 206 + Content-Range, unsatisfiable → 416;
 *   bodies are streamed from the storage's local file with backpressure, never read whole per request.
 */
import { clipKey, parseHlsFileName, parseVodFileName, recordingKey, RECORDING_MANIFEST_FILE, type HlsFile } from '@eventcast/contracts';
import type { MediaStorage } from '@eventcast/media-storage';
import {
  counter,
  gauge,
  METRICS_CONTENT_TYPE,
  METRICS_UNAUTHORIZED_MESSAGE,
  METRICS_WWW_AUTHENTICATE,
  metricsAccessAllowed,
  metricsTokenFromEnv,
  renderMetrics,
  type Logger,
} from '@eventcast/platform';
import * as uWS from 'uWebSockets.js';
import type { HttpResponse } from 'uWebSockets.js';
import { authorizeAdmin, type AdminHealthOptions, type IngestHealthReport } from '../admin-health.js';
import { USERNAME_RE } from '../media-dir.js';
import type { ThumbnailSource } from './media-sink.js';
import { FORWARDED_HEADER, type PeerOrigins } from './peer-origin.js';
import { renderMediaPlaylist, renderMultivariantPlaylist } from './playlist.js';
import type { ChannelState, LiveMediaStore, RenditionState } from './store.js';

const M3U8 = 'application/vnd.apple.mpegurl';
const HEALTH_BODY = Buffer.from(JSON.stringify({ status: 'ok' }));
const FILE_RE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Cache-Control of immutable recorded media (segments, init segments: their names never get other bytes). */
const IMMUTABLE_MEDIA = 'public, max-age=31536000, immutable';
/** Cache-Control of a finished VOD's playlists, its thumbnail and clips (deleted at most by retention or owners). */
const VOD_CACHE = 'public, max-age=86400';
/** Cache-Control of a live recording's playlists (the DVR window grows every segment). */
const LIVE_RECORDING_CACHE = 'public, max-age=1';

/** Held-request counts of the running origins (normally one per process), read at scrape time. */
const heldSources = new Set<() => number>();
gauge({
  name: 'eventcast_ingest_hls_held_requests',
  help: 'HLS requests held by the origin now (blocking playlist reloads and preload-hinted parts).',
  collect() {
    let n = 0;
    for (const f of heldSources) n += f();
    this.set(n);
  },
});
const heldOutcomes = counter({
  name: 'eventcast_ingest_hls_held_requests_total',
  help: 'Held HLS requests by outcome: answered (the part came), expired (3 × target duration), aborted (client left), refused (too many held).',
  labelNames: ['outcome'],
});

/** Options of {@link createLiveOrigin}. */
export interface LiveOriginOptions {
  store: LiveMediaStore;
  /** Readiness probe for `/ready` (200 when true, 503 otherwise). */
  isReady: () => boolean;
  log: Logger;
  /** `thumbnail.jpg`; absent: 404. */
  thumbnails?: ThumbnailSource;
  /** Recordings and clips (`/vod/…`, `/clips/…`, issue 11); absent: those paths are 404. */
  storage?: MediaStorage;
  /** `GET /admin/health`; absent: that path is 404. */
  adminHealth?: AdminHealthOptions;
  /** Bearer token `/metrics` requires; null: open; absent: `METRICS_TOKEN` of the environment. */
  metricsToken?: string | null;
  /** Most requests held at once (blocking reloads and hinted parts) before new ones get 503 (default 50000). */
  maxHeldRequests?: number;
  /**
   * Most requests held at once for one client address (`INGEST_HLS_MAX_HELD_PER_CLIENT`, default 100; 0 = no cap);
   * more → 429. A caching front (docs/hls.md) coalesces its viewers, but all of them share its address.
   */
  maxHeldPerClient?: number;
  /**
   * The other ingest nodes (`INGEST_PEER_ORIGINS`, ./peer-origin.ts): `/hls/<channel>/…` of a channel this node does
   * not hold is answered with the holder's response; absent or empty: 404 as before.
   */
  peers?: PeerOrigins;
}

/** A started origin. */
export interface LiveOrigin {
  /** The bound TCP port. */
  port: number;
  /** Requests currently held (blocking reloads and hinted parts). */
  heldRequests(): number;
  /** Stops listening, answers held requests with 503 and closes open connections. */
  close(): Promise<void>;
}

/** Result of parsing a request path. */
export type OriginRoute =
  | { kind: 'hls'; username: string; file: string }
  | { kind: 'vod'; broadcastId: string; file: string }
  | { kind: 'clip'; clipId: string; ext: 'mp4' | 'jpg' }
  | { kind: 'health' | 'ready' | 'metrics' | 'admin-health' }
  | { kind: 'bad' }
  | { kind: 'notfound' };

/**
 * Parses the raw request path (no query; not normalised).
 * @returns `bad` for traversal attempts or malformed encoding, `notfound` for anything outside the grammar.
 */
export function parseOriginPath(rawPath: string): OriginRoute {
  if (!rawPath.startsWith('/') || rawPath.includes('\\')) return { kind: 'bad' };
  const segments: string[] = [];
  for (const raw of rawPath.slice(1).split('/')) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return { kind: 'bad' };
    }
    if (s === '.' || s === '..' || /[/\\\0]/.test(s)) return { kind: 'bad' };
    segments.push(s);
  }
  if (segments.length === 1) {
    const s = segments[0];
    if (s === 'health' || s === 'ready' || s === 'metrics') return { kind: s };
  }
  if (segments.length === 2 && segments[0] === 'admin' && segments[1] === 'health') return { kind: 'admin-health' };
  if (segments[0] === 'vod' && segments.length === 3) {
    const broadcastId = segments[1] ?? '';
    const file = segments[2] ?? '';
    // Recording files only (@eventcast/contracts parseVodFileName): never manifest.json or anything else in storage.
    if (!UUID_RE.test(broadcastId) || parseVodFileName(file) === null) return { kind: 'notfound' };
    return { kind: 'vod', broadcastId, file };
  }
  if (segments[0] === 'clips' && segments.length === 2) {
    const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(mp4|jpg)$/.exec(segments[1] ?? '');
    if (!m?.[1] || (m[2] !== 'mp4' && m[2] !== 'jpg')) return { kind: 'notfound' };
    return { kind: 'clip', clipId: m[1], ext: m[2] };
  }
  if (segments[0] !== 'hls' || segments.length !== 3) return { kind: 'notfound' };
  const username = segments[1] ?? '';
  const file = segments[2] ?? '';
  if (!USERNAME_RE.test(username) || !FILE_RE.test(file)) return { kind: 'notfound' };
  return { kind: 'hls', username, file };
}

/**
 * Reads a `Range` header for a representation of `size` bytes (RFC 9110 §14.1.2 byte ranges; one range only):
 * `bytes=a-b` (b clamped to the last byte), `bytes=a-`, `bytes=-n` (the last n bytes).
 * @returns `null` to serve the whole representation (no header, another unit, several ranges or bad syntax: a server
 *   MAY ignore Range, §14.2), `'unsatisfiable'` for a range that starts past the end or an empty suffix (→ 416), else
 *   the inclusive `[start, end]`.
 */
export function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m) return null;
  const [a, b] = [m[1] ?? '', m[2] ?? ''];
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: b === '' ? size - 1 : Math.min(size - 1, Number(b)) };
}

/** Blocking-reload directives of a media playlist request (RFC 8216bis-16 §6.2.5.2). */
export interface ReloadDirectives {
  msn?: number;
  part?: number;
}

/**
 * Parses the query string (without `?`). Parameters not starting with `_HLS_` are ignored (cache busters).
 * @returns the directives, or `{ error }` with the reason for a 400.
 */
export function parseReloadDirectives(query: string): ReloadDirectives | { error: string } {
  const out: ReloadDirectives = {};
  let skip = false;
  if (query.length > 1024) return { error: 'query string too long' };
  for (const pair of query.split('&')) {
    if (!pair.startsWith('_HLS_')) continue;
    const eq = pair.indexOf('=');
    const key = eq >= 0 ? pair.slice(0, eq) : pair;
    const value = eq >= 0 ? pair.slice(eq + 1) : '';
    if (key === '_HLS_skip') {
      if (skip) return { error: '_HLS_skip is repeated' };
      if (value !== 'YES' && value !== 'v2') return { error: '_HLS_skip must be YES or v2' };
      skip = true;
      continue;
    }
    if (key !== '_HLS_msn' && key !== '_HLS_part') return { error: `unknown directive ${key.slice(0, 32)}` };
    if (!/^\d{1,15}$/.test(value)) return { error: `${key} must be a decimal integer` };
    const field = key === '_HLS_msn' ? 'msn' : 'part';
    if (out[field] !== undefined) return { error: `${key} is repeated` };
    out[field] = Number(value);
  }
  if (out.part !== undefined && out.msn === undefined) return { error: '_HLS_part requires _HLS_msn' };
  return out;
}

/** Whether rendition `r` satisfies the directives (§6.2.5.2: that part or segment, or anything later). */
export function reloadSatisfied(r: RenditionState, d: { msn: number; part?: number }): boolean {
  if (r.ended) return true;
  if (r.lastCompleteMsn() >= d.msn) return true;
  if (d.part === undefined) return false;
  const last = r.lastPart();
  return last !== null && (last.msn > d.msn || (last.msn === d.msn && last.index >= d.part));
}

/**
 * The Advance Part Limit of RFC 8216bis-16 §6.2.5.2: "three divided by the Part Target Duration if the Part Target
 * Duration is less than one second, or three otherwise" (parts).
 */
export function advancePartLimit(partTargetSeconds: number): number {
  return partTargetSeconds < 1 ? 3 / partTargetSeconds : 3;
}

/**
 * Whether `_HLS_part` lies more than the Advance Part Limit past the rendition's last part (§6.2.5.2: the server
 * SHOULD answer 400). Parts ahead are counted exactly within the last part's segment; for a later segment, at least
 * `d.part + 1` (the parts of the open segment still to come are unknown, so this never refuses a reachable part).
 */
export function partAdvanceExceeded(r: RenditionState, d: { msn: number; part: number | undefined }, partTargetSeconds: number): boolean {
  if (d.part === undefined || r.ended) return false;
  const last = r.lastPart();
  let ahead: number;
  if (last === null || d.msn > last.msn) ahead = d.part + 1;
  else if (d.msn === last.msn) ahead = d.part - last.index;
  else return false;
  return ahead > advancePartLimit(partTargetSeconds);
}

interface Held {
  res: HttpResponse;
  /** Client address (per-client cap). */
  client: string;
  kind: 'playlist' | 'part';
  username: string;
  rendition: string;
  epoch: string;
  msn: number;
  part: number | undefined;
  /** Part number (kind `part`). */
  n: number;
  head: boolean;
  deadline: number;
  done: boolean;
}

interface Cached {
  version: number;
  body: Buffer | null;
}

/**
 * Creates and starts the origin on `host:port` (0: a free port).
 * @throws {Error} when the port cannot be bound.
 */
export async function createLiveOrigin(o: LiveOriginOptions, host: string, port: number): Promise<LiveOrigin> {
  const metricsToken = o.metricsToken !== undefined ? o.metricsToken : metricsTokenFromEnv();
  const store = o.store;
  const so = store.options;
  const maxHeld = o.maxHeldRequests ?? 50_000;
  const maxPerClient = o.maxHeldPerClient ?? 100;
  const heldByClient = new Map<string, number>();
  const holdMs = 3 * so.targetDurationSeconds * 1000;
  const immutable = `public, max-age=${Math.max(10, Math.ceil(so.windowSegments * so.targetDurationSeconds))}, immutable`;
  const directiveCache = `public, max-age=${so.targetDurationSeconds}`;
  const held = new Map<string, Set<Held>>();
  let heldCount = 0;
  const mediaCache = new WeakMap<RenditionState, Cached>();
  const multivariantCache = new WeakMap<ChannelState, Cached>();

  const mediaPlaylist = (r: RenditionState): Buffer | null => {
    const v = r.channel.version;
    const c = mediaCache.get(r);
    if (c && c.version === v) return c.body;
    const text = renderMediaPlaylist(r);
    const body = text === null ? null : Buffer.from(text);
    mediaCache.set(r, { version: v, body });
    return body;
  };
  const multivariant = (ch: ChannelState): Buffer | null => {
    const v = ch.version;
    const c = multivariantCache.get(ch);
    if (c && c.version === v) return c.body;
    const text = renderMultivariantPlaylist(ch);
    const body = text === null ? null : Buffer.from(text);
    multivariantCache.set(ch, { version: v, body });
    return body;
  };

  /** Writes status, CORS and the given headers (call inside cork when outside a uWS handler). */
  const start = (res: HttpResponse, status: string, headers: Record<string, string>): void => {
    res.writeStatus(status);
    res.writeHeader('Access-Control-Allow-Origin', '*');
    res.writeHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Type, Content-Range, Accept-Ranges');
    for (const k in headers) res.writeHeader(k, headers[k] ?? '');
  };

  /** Sends a whole body with backpressure: what the socket does not take is resent from onWritable. */
  const send = (res: HttpResponse, status: string, headers: Record<string, string>, body: Buffer, head: boolean, headLength = body.length): void => {
    start(res, status, headers);
    if (head) {
      // endWithoutBody(length) aborts the process in uws-pack 20.0.8 on HEAD; the header + endWithoutBody() works.
      res.writeHeader('Content-Length', String(headLength));
      res.endWithoutBody();
      return;
    }
    const base = res.getWriteOffset();
    const [ok, done] = res.tryEnd(body, body.length);
    if (done || ok) return;
    // The socket took part of it: resume from where it stopped when it drains. uWS keeps no copy; `body` is the
    // store's buffer (or a small one made here), referenced until the response ends or aborts.
    res.onWritable((offset) => res.tryEnd(body.subarray(offset - base), body.length)[0]);
    res.onAborted(() => undefined);
  };

  const json = (res: HttpResponse, status: number, reason: string, message: string, head: boolean, extra: Record<string, string> = {}): void => {
    const body = Buffer.from(JSON.stringify({ statusCode: status, error: reason, message }));
    send(res, `${status} ${reason}`, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra }, body, head);
  };
  const notFound = (res: HttpResponse, head: boolean, message = 'not found'): void => json(res, 404, 'Not Found', message, head);

  const sendPlaylist = (res: HttpResponse, body: Buffer, cache: string, head: boolean): void =>
    send(res, '200 OK', { 'Content-Type': M3U8, 'Cache-Control': cache }, body, head);

  // ---- held requests -------------------------------------------------------------------------------------------
  let sweeper: NodeJS.Timeout | null = null;
  const release = (h: Held): void => {
    h.done = true;
    const key = `${h.username}/${h.rendition}`;
    const set = held.get(key);
    if (set?.delete(h)) {
      heldCount--;
      const n = (heldByClient.get(h.client) ?? 1) - 1;
      if (n <= 0) heldByClient.delete(h.client);
      else heldByClient.set(h.client, n);
    }
    if (set && set.size === 0) held.delete(key);
    if (heldCount === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = null;
    }
  };
  const hold = (h: Held): void => {
    const key = `${h.username}/${h.rendition}`;
    let set = held.get(key);
    if (!set) held.set(key, (set = new Set()));
    set.add(h);
    heldCount++;
    heldByClient.set(h.client, (heldByClient.get(h.client) ?? 0) + 1);
    h.res.onAborted(() => {
      heldOutcomes.inc({ outcome: 'aborted' });
      release(h);
    });
    sweeper ??= setInterval(sweep, 100);
  };
  /** Answers a held request if it can be answered now (inside cork). @returns true when answered. */
  const tryAnswer = (h: Held, r: RenditionState | undefined, final: boolean): boolean => {
    if (!r || r.channel.epoch !== h.epoch) {
      notFound(h.res, h.head, 'the broadcast ended');
      return true;
    }
    if (h.kind === 'playlist') {
      const body = reloadSatisfied(r, { msn: h.msn, part: h.part }) ? mediaPlaylist(r) : null;
      if (body) {
        sendPlaylist(h.res, body, directiveCache, h.head);
        return true;
      }
      if (final) {
        json(h.res, 503, 'Service Unavailable', 'the playlist did not reach the requested segment in time', h.head, { 'Retry-After': '1' });
        return true;
      }
      return false;
    }
    const p = r.findPart(h.n);
    if (p) {
      send(h.res, '200 OK', { 'Content-Type': 'video/mp4', 'Cache-Control': immutable }, p.data, h.head);
      return true;
    }
    if (final || r.ended || h.n < r.nextPartN) {
      notFound(h.res, h.head, 'no such part');
      return true;
    }
    return false;
  };
  const sweep = (): void => {
    const now = Date.now();
    for (const set of held.values()) {
      for (const h of set) {
        if (h.done || h.deadline > now) continue;
        const r = store.channel(h.username)?.renditions.get(h.rendition);
        heldOutcomes.inc({ outcome: 'expired' });
        try {
          h.res.cork(() => tryAnswer(h, r, true));
        } catch (err: unknown) {
          o.log.warn({ err: (err as Error).message }, 'expiring a held HLS request failed');
        }
        release(h);
      }
    }
  };
  const unsubscribe = store.subscribe((ch, r) => {
    const set = held.get(`${ch.username}/${r.name}`);
    if (set) {
      for (const h of set) {
        if (h.done) continue;
        let answered = false;
        try {
          h.res.cork(() => (answered = tryAnswer(h, r, false)));
        } catch (err: unknown) {
          // Never let one response's failure reach the packager that called the store.
          o.log.warn({ err: (err as Error).message }, 'answering a held HLS request failed');
          answered = true;
        }
        if (answered) {
          heldOutcomes.inc({ outcome: 'answered' });
          release(h);
        }
      }
    }
    // Other renditions' playlists carry this one's rendition report, but they are not waiting on it.
  });

  /** Answers 503 / 429 when the global or this client's held-request cap is reached. @returns true when refused. */
  const refuseHold = (res: HttpResponse, client: string, head: boolean): boolean => {
    if (heldCount >= maxHeld) {
      heldOutcomes.inc({ outcome: 'refused' });
      json(res, 503, 'Service Unavailable', 'too many held requests', head, { 'Retry-After': '1' });
      return true;
    }
    if (maxPerClient > 0 && (heldByClient.get(client) ?? 0) >= maxPerClient) {
      heldOutcomes.inc({ outcome: 'refused' });
      json(res, 429, 'Too Many Requests', `more than ${maxPerClient} held requests from this address`, head, { 'Retry-After': '1' });
      return true;
    }
    return false;
  };

  // ---- HLS -----------------------------------------------------------------------------------------------------
  /**
   * Answers with the response of the peer node that holds `username` (./peer-origin.ts), or calls `fallback` when
   * none does. Runs outside the uWS handler: the response is written corked, never after the client left.
   */
  const forwardToPeer = (res: HttpResponse, peers: PeerOrigins, username: string, file: string, query: string, head: boolean, fallback: () => void): void => {
    const ac = new AbortController();
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
      ac.abort();
    });
    const path = `/hls/${encodeURIComponent(username)}/${encodeURIComponent(file)}${query ? `?${query}` : ''}`;
    peers.fetch(username, path, {}, ac.signal).then(
      (r) => {
        if (aborted) return;
        res.cork(() => {
          if (r) send(res, `${r.status} ${r.statusText}`, r.headers, r.body, head);
          else fallback();
        });
      },
      (err: unknown) => {
        if (aborted) return;
        o.log.warn({ err: (err as Error).message, channel: username }, 'asking the peer origins failed');
        res.cork(fallback);
      },
    );
  };

  const serveHls = (res: HttpResponse, username: string, file: string, query: string, head: boolean, client: string, forwarded = false): void => {
    const f: HlsFile | null = parseHlsFileName(file);
    const ch = store.channel(username);
    if (!ch) {
      const local = (): void => {
        if (f?.kind === 'thumbnail') serveThumbnail(res, username, head);
        else notFound(res, head, 'the channel is not live');
      };
      // Live on another node: its response (a request forwarded to us is never forwarded again).
      if (o.peers?.enabled && !forwarded && f) forwardToPeer(res, o.peers, username, file, query, head, local);
      else local();
      return;
    }
    if (!f) {
      notFound(res, head);
      return;
    }
    switch (f.kind) {
      case 'multivariant': {
        const body = multivariant(ch);
        if (body) sendPlaylist(res, body, 'public, max-age=2', head);
        else notFound(res, head, 'the channel has no rendition yet');
        return;
      }
      case 'thumbnail':
        serveThumbnail(res, username, head);
        return;
      case 'media-playlist': {
        const r = ch.renditions.get(f.rendition);
        if (!r) return notFound(res, head, 'no such rendition');
        const d = parseReloadDirectives(query);
        if ('error' in d) return json(res, 400, 'Bad Request', d.error, head);
        if (d.msn === undefined) {
          const body = mediaPlaylist(r);
          if (body) sendPlaylist(res, body, 'no-cache', head);
          else notFound(res, head, 'the rendition has no media yet');
          return;
        }
        if (!r.ended && d.msn > r.lastCompleteMsn() + 2) {
          return json(res, 400, 'Bad Request', `_HLS_msn ${d.msn} is more than two segments after the last segment (${r.lastCompleteMsn()})`, head);
        }
        if (partAdvanceExceeded(r, { msn: d.msn, part: d.part }, so.partTargetSeconds)) {
          return json(res, 400, 'Bad Request', `_HLS_part ${d.part} of segment ${d.msn} is beyond the advance part limit of the last part`, head);
        }
        const h: Held = { res, client, kind: 'playlist', username, rendition: r.name, epoch: ch.epoch, msn: d.msn, part: d.part, n: 0, head, deadline: Date.now() + holdMs, done: false };
        if (tryAnswer(h, r, false)) return;
        if (refuseHold(res, client, head)) return;
        hold(h);
        return;
      }
      case 'init': {
        const r = ch.renditions.get(f.rendition);
        const body = r && f.epoch === ch.epoch ? r.inits.get(f.gen) : undefined;
        if (body) send(res, '200 OK', { 'Content-Type': 'video/mp4', 'Cache-Control': immutable }, body, head);
        else notFound(res, head, 'no such init segment');
        return;
      }
      case 'segment': {
        const r = ch.renditions.get(f.rendition);
        const s = r && f.epoch === ch.epoch ? r.findSegment(f.msn) : null;
        if (r && s) send(res, '200 OK', { 'Content-Type': 'video/mp4', 'Cache-Control': immutable }, r.segmentBytes(s), head);
        else notFound(res, head, 'no such segment');
        return;
      }
      case 'part': {
        const r = ch.renditions.get(f.rendition);
        if (!r || f.epoch !== ch.epoch) return notFound(res, head, 'no such part');
        const p = r.findPart(f.n);
        if (p) return send(res, '200 OK', { 'Content-Type': 'video/mp4', 'Cache-Control': immutable }, p.data, head);
        // Only the next part (the preload hint) is worth waiting for.
        if (r.ended || f.n !== r.nextPartN) return notFound(res, head, 'no such part');
        if (refuseHold(res, client, head)) return;
        hold({ res, client, kind: 'part', username, rendition: r.name, epoch: ch.epoch, msn: 0, part: undefined, n: f.n, head, deadline: Date.now() + holdMs, done: false });
        return;
      }
    }
  };

  const serveThumbnail = (res: HttpResponse, username: string, head: boolean): void => {
    const t = o.thumbnails?.thumbnail(username);
    if (!t) return notFound(res, head, 'no thumbnail');
    send(res, '200 OK', { 'Content-Type': 'image/jpeg', 'Cache-Control': 'public, max-age=10', 'Last-Modified': new Date(t.at).toUTCString() }, t.jpeg, head);
  };

  // ---- recordings and clips (issue 11) -------------------------------------------------------------------------
  const storage = o.storage;
  /**
   * Small recording files (playlists, manifests) kept in memory by key while their size and time stay the same: many
   * viewers of one DVR window cost a `stat` each, not a read. At most 256 entries (the oldest goes first).
   */
  const smallFiles = new Map<string, { size: number; modifiedAtMs: number; body: Buffer }>();
  const readSmall = async (key: string): Promise<Buffer | null> => {
    if (!storage) return null;
    const st = await storage.stat(key);
    if (!st) {
      smallFiles.delete(key);
      return null;
    }
    const hit = smallFiles.get(key);
    if (hit && hit.size === st.size && hit.modifiedAtMs === st.modifiedAtMs) return hit.body;
    const body = await storage.get(key);
    if (!body) return null;
    smallFiles.delete(key);
    smallFiles.set(key, { size: st.size, modifiedAtMs: st.modifiedAtMs, body });
    if (smallFiles.size > 256) smallFiles.delete(smallFiles.keys().next().value ?? '');
    return body;
  };
  /** Playlists (small) are read whole (cached); media are streamed from the storage's local file when it has one. */
  const serveVod = (res: HttpResponse, broadcastId: string, file: string, head: boolean, range: string): void => {
    const f = parseVodFileName(file);
    if (!storage || !f) return notFound(res, head);
    const key = recordingKey(broadcastId, file);
    if (f.kind === 'media-playlist' || f.kind === 'multivariant') {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const manifest = f.kind === 'multivariant' ? readSmall(recordingKey(broadcastId, RECORDING_MANIFEST_FILE)) : Promise.resolve(null);
      Promise.all([readSmall(key), manifest]).then(
        ([body, m]) => {
          if (aborted) return;
          res.cork(() => {
            if (!body) return notFound(res, head, 'no such recording file');
            // A media playlist says itself whether the recording is live (EVENT, no ENDLIST); the multivariant
            // playlist (rewritten while live) asks the manifest.
            const text = body.toString('latin1');
            const live = f.kind === 'media-playlist' ? !text.includes('#EXT-X-ENDLIST') : !m || /"endedAt":\s*null/.test(m.toString('utf8'));
            sendPlaylist(res, body, live ? LIVE_RECORDING_CACHE : VOD_CACHE, head);
          });
        },
        (err: unknown) => storageFailed(res, head, err, () => aborted),
      );
      return;
    }
    const type = f.kind === 'thumbnail' ? 'image/jpeg' : f.kind === 'segment' ? 'video/iso.segment' : 'video/mp4';
    serveStored(res, key, type, f.kind === 'thumbnail' ? VOD_CACHE : IMMUTABLE_MEDIA, head, range);
  };

  const serveClip = (res: HttpResponse, clipId: string, ext: 'mp4' | 'jpg', head: boolean, range: string): void => {
    if (!storage) return notFound(res, head);
    serveStored(res, clipKey(clipId, ext), ext === 'mp4' ? 'video/mp4' : 'image/jpeg', `${VOD_CACHE}, immutable`, head, range);
  };

  const storageFailed = (res: HttpResponse, head: boolean, err: unknown, aborted: () => boolean): void => {
    o.log.warn({ err: (err as Error).message }, 'media storage read failed');
    if (!aborted()) res.cork(() => json(res, 500, 'Internal Server Error', 'media storage unavailable', head));
  };

  /**
   * One stored object with byte ranges (RFC 9110 §14): `Accept-Ranges: bytes`; a satisfiable `Range` → 206 +
   * `Content-Range`; an unsatisfiable one → 416 + `Content-Range: bytes *\/size`. The body is streamed from the local
   * file with backpressure (uWS `tryEnd` + `onWritable`, at most one read chunk in memory per response); an adapter
   * without local files is read whole.
   */
  const serveStored = (res: HttpResponse, key: string, type: string, cache: string, head: boolean, rangeHeader: string): void => {
    if (!storage) return notFound(res, head);
    let aborted = false;
    let stream: NodeJS.ReadableStream & { destroy?: () => void } | null = null;
    res.onAborted(() => {
      aborted = true;
      stream?.destroy?.();
    });
    storage.stat(key).then(
      async (st) => {
        if (aborted) return;
        if (!st) return res.cork(() => notFound(res, head, 'no such file'));
        const size = st.size;
        const range = rangeHeader ? parseRange(rangeHeader, size) : null;
        const headers: Record<string, string> = { 'Content-Type': type, 'Cache-Control': cache, 'Accept-Ranges': 'bytes', 'Last-Modified': new Date(st.modifiedAtMs).toUTCString() };
        if (range === 'unsatisfiable') {
          return res.cork(() => json(res, 416, 'Range Not Satisfiable', `the range is outside the ${size} bytes of the file`, head, { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' }));
        }
        const status = range ? '206 Partial Content' : '200 OK';
        if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
        const length = range ? range.end - range.start + 1 : size;
        if (head || length === 0) return res.cork(() => send(res, status, headers, Buffer.alloc(0), head, length));
        const local = storage as MediaStorage & { createReadStream?: (k: string, r?: { start: number; end: number }) => NodeJS.ReadableStream };
        if (typeof local.createReadStream !== 'function') {
          const whole = await storage.get(key);
          if (aborted) return;
          if (!whole) return res.cork(() => notFound(res, head, 'no such file'));
          return res.cork(() => send(res, status, headers, range ? whole.subarray(range.start, range.end + 1) : whole, false));
        }
        const rs = local.createReadStream(key, { start: range?.start ?? 0, end: range?.end ?? size - 1 });
        stream = rs;
        pipeOut(res, rs, status, headers, length, () => aborted);
      },
      (err: unknown) => storageFailed(res, head, err, () => aborted),
    );
  };

  /** Streams `rs` as the body of `length` bytes (the uWS VideoStreamer pattern: pause on backpressure). */
  const pipeOut = (res: HttpResponse, rs: NodeJS.ReadableStream, status: string, headers: Record<string, string>, length: number, aborted: () => boolean): void => {
    let started = false;
    let finished = false;
    /** A chunk waits for onWritable: 'end' may come before it is written. */
    let waiting = false;
    const destroy = () => (rs as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    rs.on('data', (data: Buffer | string) => {
      if (aborted() || finished) return destroy();
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      res.cork(() => {
        if (!started) {
          start(res, status, headers);
          started = true;
        }
        const base = res.getWriteOffset();
        const [ok, done] = res.tryEnd(chunk, length);
        if (done) {
          finished = true;
          destroy();
        } else if (!ok) {
          rs.pause();
          waiting = true;
          res.onWritable((offset) => {
            const [ok2, done2] = res.tryEnd(chunk.subarray(offset - base), length);
            if (done2) {
              finished = true;
              destroy();
            } else if (ok2) {
              waiting = false;
              rs.resume();
            }
            return ok2;
          });
        }
      });
    });
    rs.on('error', (err: Error) => {
      o.log.warn({ err: err.message }, 'media storage stream failed');
      if (aborted() || finished) return;
      finished = true;
      if (started) res.close();
      else res.cork(() => json(res, 500, 'Internal Server Error', 'media storage unavailable', false));
    });
    rs.on('end', () => {
      // A file shorter than its stat (truncated meanwhile): close rather than hang.
      if (!finished && !waiting && !aborted()) {
        finished = true;
        res.close();
      }
    });
  };

  // ---- routing -------------------------------------------------------------------------------------------------
  const app = uWS.App();
  app.any('/*', (res, req) => {
    const method = req.getCaseSensitiveMethod();
    if (method === 'OPTIONS') {
      start(res, '204 No Content', {
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': req.getHeader('access-control-request-headers') || '*',
        'Access-Control-Max-Age': '86400',
      });
      res.endWithoutBody();
      return;
    }
    const head = method === 'HEAD';
    if (method !== 'GET' && !head) {
      json(res, 405, 'Method Not Allowed', `${method.slice(0, 16)} is not supported`, false, { Allow: 'GET, HEAD, OPTIONS' });
      return;
    }
    const route = parseOriginPath(req.getUrl());
    switch (route.kind) {
      case 'hls':
        // The peer's address (a caching front's, behind one): read now, uWS's request is only valid in the handler.
        serveHls(res, route.username, route.file, req.getQuery() ?? '', head, Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader(FORWARDED_HEADER) !== '');
        return;
      case 'vod':
        serveVod(res, route.broadcastId, route.file, head, req.getHeader('range'));
        return;
      case 'clip':
        serveClip(res, route.clipId, route.ext, head, req.getHeader('range'));
        return;
      case 'health':
        send(res, '200 OK', { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }, HEALTH_BODY, head);
        return;
      case 'ready': {
        const ready = o.isReady();
        const body = Buffer.from(JSON.stringify({ status: ready ? 'ready' : 'not_ready' }));
        send(res, ready ? '200 OK' : '503 Service Unavailable', { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }, body, head);
        return;
      }
      case 'metrics': {
        if (!metricsAccessAllowed(req.getHeader('authorization') || undefined, metricsToken)) {
          json(res, 401, 'Unauthorized', METRICS_UNAUTHORIZED_MESSAGE, head, { 'WWW-Authenticate': METRICS_WWW_AUTHENTICATE });
          return;
        }
        let aborted = false;
        res.onAborted(() => (aborted = true));
        renderMetrics().then(
          (text) => !aborted && res.cork(() => send(res, '200 OK', { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' }, Buffer.from(text), head)),
          (err: unknown) => {
            o.log.warn({ err: (err as Error).message }, 'metrics unavailable');
            if (!aborted) res.cork(() => json(res, 500, 'Internal Server Error', 'metrics unavailable', head));
          },
        );
        return;
      }
      case 'admin-health': {
        const admin = o.adminHealth;
        if (!admin) return notFound(res, head);
        const authorization = req.getHeader('authorization') || undefined;
        let aborted = false;
        res.onAborted(() => (aborted = true));
        authorizeAdmin(authorization, admin.jwtSecret, admin.admins).then(
          (auth) => {
            if (aborted) return;
            res.cork(() => {
              if (!auth.ok) return json(res, auth.status, auth.status === 401 ? 'Unauthorized' : 'Forbidden', auth.message, head);
              const report: IngestHealthReport = { ingestId: admin.ingestId, at: new Date().toISOString(), channels: admin.channels() };
              send(res, '200 OK', { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }, Buffer.from(JSON.stringify(report)), head);
            });
          },
          (err: unknown) => {
            o.log.warn({ err: (err as Error).message }, 'admin health failed');
            if (!aborted) res.cork(() => json(res, 500, 'Internal Server Error', 'admin health unavailable', head));
          },
        );
        return;
      }
      case 'bad':
        json(res, 400, 'Bad Request', 'invalid path', head);
        return;
      case 'notfound':
        notFound(res, head);
        return;
    }
  });

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(host, port, (s) => (s ? resolve(s) : reject(new Error(`HLS origin: cannot listen on ${host}:${port}`))));
  });
  const boundPort = uWS.us_socket_local_port(listenSocket);
  const heldNow = () => heldCount;
  heldSources.add(heldNow);
  return {
    port: boundPort,
    heldRequests: () => heldCount,
    close: async () => {
      heldSources.delete(heldNow);
      unsubscribe();
      uWS.us_listen_socket_close(listenSocket);
      for (const set of [...held.values()]) {
        for (const h of set) {
          h.res.cork(() => json(h.res, 503, 'Service Unavailable', 'the origin is stopping', h.head));
          release(h);
        }
      }
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      await new Promise((r) => setTimeout(r, 50));
      app.close();
    },
  };
}
