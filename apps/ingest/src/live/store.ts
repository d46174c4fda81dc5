/**
 * The live media store: every live channel's init segments, recent segments and parts in memory, the input of the
 * LL-HLS playlists (./playlist.ts) and of the uWebSockets.js origin (./origin.ts). Implements the packager's seam
 * (./media-sink.ts: {@link LiveMediaSink}) and the thumbnailer's {@link KeyframeSource}.
 *
 * Per rendition:
 * - **Segments** (RFC 8216bis §3): a new segment starts at an independent part (one that starts with a keyframe)
 *   once the open segment is at least `segmentSeconds` long, so segments end on keyframes and a 2-s GOP makes 2-s
 *   segments. If keyframes do not come in time, the segment is force-cut before its duration would round above the
 *   target duration (RFC 8216bis §4.4.3.1: every EXTINF rounded to the nearest integer ≤ EXT-X-TARGETDURATION);
 *   the next segment then starts with a dependent part (valid HLS: the media playlist then carries no
 *   EXT-X-INDEPENDENT-SEGMENTS, and a player starting there waits for the next keyframe).
 * - **Start-up segment**: the first segment of each run (after each init: the broadcast's start, a packager restart)
 *   closes as soon as it holds `startupSegmentSeconds` (default: its first part). hls.js starts only once the playlist
 *   lists a complete segment (`base-stream-controller.ts` `getNextFragment`: no fragment → nothing to load; parts
 *   after the last segment are only a "fragment hint"), so with 2-s keyframe-aligned segments the first picture came
 *   a whole GOP after the first part (publish → first frame 2.7 s at a 2-s GOP vs 1.8 s at 1 s, measured). The
 *   segment after it starts with a dependent part, as after a force cut; such a segment ends at the next keyframe
 *   whatever its length, so boundaries are on keyframes again from there.
 * - **Memory** is bounded by the window: `windowSegments` closed segments (default 6) plus the open one. Parts are
 *   kept (and listed in the playlist) for the last `partSegments` closed segments (default 2) plus the open one — the
 *   spec has parts removed once they are more than three target durations from the end (§4.4.4.9). A closed segment's
 *   whole bytes are the concatenation of its parts, made on the first request for the whole segment
 *   ({@link RenditionState.segmentBytes}: LL-HLS players fetch parts, so most segments are never concatenated).
 * - **Discontinuity**: a second `init` closes the open segment; the next segment carries EXT-X-DISCONTINUITY and the new
 *   EXT-X-MAP (a new init generation). EXT-X-DISCONTINUITY-SEQUENCE follows as the window slides (§4.4.3.3). Media
 *   sequence numbers and part numbers never go back within a channel's live session.
 * - **Change notification**: every change (part, segment, init, end) bumps the rendition's version and calls the
 *   listeners once; the origin answers all blocking reloads held on that rendition from that single call.
 */
import { hlsInitFile, hlsPartFile, hlsSegmentFile } from '@eventcast/contracts';
import type { ChannelMediaSink, KeyframeSource, LiveMediaSink, MediaPart, RenditionDescriptor, RenditionSink } from './media-sink.js';

/** Options of {@link LiveMediaStore}. */
export interface LiveMediaStoreOptions {
  /** Minimum segment duration in seconds before a keyframe may start the next one (`HLS_SEGMENT_SECONDS`, default 1). */
  segmentSeconds: number;
  /**
   * The advertised part target duration in seconds: EXT-X-PART-INF PART-TARGET (PART-HOLD-BACK is 3 × it). Every
   * part must last at most it (RFC 8216bis §4.4.4.9); the ingest passes {@link advertisedPartTarget} of
   * `HLS_PART_SECONDS`.
   */
  partTargetSeconds: number;
  /**
   * EXT-X-TARGETDURATION in whole seconds, fixed for the life of a playlist; default max(2, ceil(segmentSeconds)):
   * a GOP up to 2 s (the platform re-encodes longer ones) gives keyframe-aligned segments without a force cut.
   */
  targetDurationSeconds?: number;
  /**
   * The first segment of each run closes once it holds at least this many seconds (default: `partTargetSeconds`, so
   * it closes with its first part; `Infinity`: no start-up segment). See the module comment.
   */
  startupSegmentSeconds?: number;
  /** Closed segments kept per rendition (default 6). */
  windowSegments?: number;
  /**
   * Closed segments whose parts are kept and listed (default 2, at most `windowSegments`): with the open segment,
   * parts span the last three segments (RFC 8216bis §4.4.4.9; hls-parser enforces the same).
   */
  partSegments?: number;
  /** Clock in ms since the epoch (tests). */
  now?: () => number;
}

/**
 * PART-TARGET for a packager cutting parts of `partSeconds` (`HLS_PART_SECONDS`, ffmpeg's `-frag_duration`):
 * `partSeconds` + one frame at 30 fps, rounded up to the millisecond. ffmpeg closes a fragment at the first frame at
 * or after `-frag_duration`, so a part can be up to one frame longer — at 29.97 fps with FLV's millisecond timestamps
 * the parts measured 0.201 s, and a run's first part 0.221 s (live/packager.test.ts checks real output).
 * @returns seconds, e.g. 0.234 for 0.2.
 */
export function advertisedPartTarget(partSeconds: number): number {
  return Math.ceil((partSeconds + 1 / 30) * 1000) / 1000;
}

/** One stored part; `n` is its number within the rendition (URL `<r>-<epoch>-p<n>.m4s`). */
export interface StoredPart {
  n: number;
  data: Buffer;
  durationSeconds: number;
  independent: boolean;
  programDateTimeMs: number;
  /** When the store received it (ms since the epoch). */
  receivedAtMs: number;
}

/** One segment of the window. The open segment has `closed` false and no `bytes` yet. */
export interface StoredSegment {
  msn: number;
  /** Init generation of its EXT-X-MAP. */
  gen: number;
  /** True when an EXT-X-DISCONTINUITY precedes it. */
  discontinuity: boolean;
  /** Discontinuity sequence number of this segment (§4.4.3.3): discontinuities up to and including this segment. */
  discontinuitySequence: number;
  /** Parts, in order; empty once they are dropped (older segments). */
  parts: StoredPart[];
  /** Whether its parts were dropped from memory (only `bytes` remain). */
  partsDropped: boolean;
  /** Whether its first part starts with a keyframe (false for a segment after a force cut or a start-up segment). */
  startsIndependent: boolean;
  /** The start-up segment of its run (see the module comment): short, left out of the peak bandwidth. */
  startup: boolean;
  /** Media duration in seconds (sum of its parts). */
  durationSeconds: number;
  programDateTimeMs: number;
  closed: boolean;
  /** Whole segment bytes, once made ({@link RenditionState.segmentBytes}). */
  bytes: Buffer | null;
  /** A closed segment's part data until `bytes` is made (references, no copy). */
  chunks: Buffer[];
  /** Byte length of the segment (sum of its parts). */
  byteLength: number;
}

/** A rendition's live state, read by the playlist writer and the origin. */
export class RenditionState implements RenditionSink {
  descriptor: RenditionDescriptor;
  /** Closed segments of the window, oldest first. */
  readonly segments: StoredSegment[] = [];
  /** The open segment (parts still arriving), or null before the first part and after a discontinuity or end. */
  open: StoredSegment | null = null;
  /** Current init generation (-1 before the first init). */
  gen = -1;
  /** Init segments by generation (only those the window still references, plus the current one). */
  readonly inits = new Map<number, Buffer>();
  /** Next media sequence number. */
  nextMsn = 0;
  /** Number of the next part. */
  nextPartN = 0;
  /** Set by `init` after the first: the next segment starts with a discontinuity. */
  private pendingDiscontinuity = false;
  /** Discontinuities so far. */
  private discontinuities = 0;
  /** Segments opened since the last init (the first is the run's start-up segment). */
  private segmentsInRun = 0;
  ended = false;
  /** Bumped on every change; playlists are cached per version. */
  version = 0;
  /** Latest independent part and when it arrived (thumbnails). */
  latestKeyframe: { gen: number; part: StoredPart } | null = null;
  /** Parts longer than the part target (a packager fault; counted, still served). */
  oversizeParts = 0;

  constructor(
    readonly name: string,
    readonly channel: ChannelState,
  ) {
    this.descriptor = { name, codecs: '', width: null, height: null, frameRate: null, bandwidth: 0, transcoded: false };
  }

  /** {@inheritDoc RenditionSink.init} */
  init(initSegment: Buffer, descriptor: RenditionDescriptor): void {
    if (this.ended) return;
    this.descriptor = { ...descriptor, name: this.name };
    if (this.gen >= 0) {
      this.closeOpen();
      this.pendingDiscontinuity = true;
      // The part the last preload hint named would belong to the new init: skip its number, so a player that
      // fetched the hint early gets 404 rather than media it would decode with the old init segment.
      this.nextPartN++;
    }
    this.gen += 1;
    this.segmentsInRun = 0;
    this.inits.set(this.gen, initSegment);
    this.channel.changed(this);
  }

  /** {@inheritDoc RenditionSink.part} */
  part(part: MediaPart): void {
    if (this.ended || this.gen < 0 || part.data.length === 0 || !(part.durationSeconds >= 0)) return;
    const o = this.channel.options;
    const stored: StoredPart = {
      n: this.nextPartN++,
      data: part.data,
      durationSeconds: part.durationSeconds,
      independent: part.independent,
      programDateTimeMs: part.programDateTimeMs,
      receivedAtMs: o.now(),
    };
    if (part.durationSeconds > o.partTargetSeconds + 1e-3) this.oversizeParts++;
    const open = this.open;
    if (open && open.parts.length > 0) {
      // A segment that did not start with a keyframe (after a start-up segment or a force cut) ends at the next one,
      // so segment boundaries are back on keyframes as soon as the source allows.
      const keyframeCut = part.independent && (open.durationSeconds >= o.segmentSeconds - 1e-6 || !open.startsIndependent);
      // Force cut: adding this part would make EXTINF round above the target duration.
      const forceCut = open.durationSeconds + part.durationSeconds >= o.targetDurationSeconds + 0.5;
      if (keyframeCut || forceCut) this.closeOpen();
    }
    let seg = this.open;
    if (!seg) {
      seg = {
        msn: this.nextMsn++,
        gen: this.gen,
        discontinuity: this.pendingDiscontinuity,
        discontinuitySequence: this.discontinuities + (this.pendingDiscontinuity ? 1 : 0),
        parts: [],
        partsDropped: false,
        startsIndependent: part.independent,
        startup: this.segmentsInRun === 0,
        durationSeconds: 0,
        programDateTimeMs: part.programDateTimeMs,
        closed: false,
        bytes: null,
        chunks: [],
        byteLength: 0,
      };
      this.segmentsInRun++;
      if (this.pendingDiscontinuity) this.discontinuities++;
      this.pendingDiscontinuity = false;
      this.open = seg;
    }
    seg.parts.push(stored);
    seg.durationSeconds += part.durationSeconds;
    seg.byteLength += part.data.length;
    if (part.independent) this.latestKeyframe = { gen: this.gen, part: stored };
    if (seg.startup && seg.durationSeconds >= o.startupSegmentSeconds - 1e-6) this.closeOpen();
    this.channel.changed(this);
  }

  /** Closes the open segment (if it has parts) and slides the window. */
  closeOpen(): void {
    const seg = this.open;
    this.open = null;
    if (!seg || seg.parts.length === 0) return;
    seg.closed = true;
    seg.chunks = seg.parts.map((p) => p.data);
    this.segments.push(seg);
    const o = this.channel.options;
    while (this.segments.length > o.windowSegments) this.segments.shift();
    for (let i = 0; i < this.segments.length - o.partSegments; i++) {
      const s = this.segments[i];
      if (s && !s.partsDropped) {
        s.parts = [];
        s.partsDropped = true;
      }
    }
    const keep = new Set(this.segments.map((s) => s.gen));
    keep.add(this.gen);
    for (const g of this.inits.keys()) if (!keep.has(g)) this.inits.delete(g);
  }

  /** Ends the rendition: closes the open segment; the playlist gets EXT-X-ENDLIST. */
  end(): void {
    if (this.ended) return;
    this.closeOpen();
    this.ended = true;
    this.channel.changed(this);
  }

  /**
   * The next segment when no part has opened it yet but the playlist already has segments — after a new init (a
   * packager restart) or after a start-up segment closed with its last part: its media sequence number, init
   * generation, whether a discontinuity precedes it, and its discontinuity sequence; null otherwise (also once
   * ended). The media playlist lists it as the `EXT-X-PRELOAD-HINT` of its first part, after `EXT-X-DISCONTINUITY` +
   * the new `EXT-X-MAP` when it follows a new init (./playlist.ts), so a player that predicts the next segment from
   * the playlist's tail gets its discontinuity right: hls.js (`m3u8-parser.ts`) makes a "fragment hint" for the
   * segment after the last one with the discontinuity count at the end of the playlist, and fails with a fatal
   * `levelParsingError` ("discontinuity sequence mismatch", `level-helper.ts` `mapFragmentIntersection`) when the
   * next reload gives that segment another count.
   */
  pendingSegment(): { msn: number; gen: number; discontinuity: boolean; discontinuitySequence: number } | null {
    if (this.ended || this.gen < 0 || (this.open && this.open.parts.length > 0)) return null;
    const d = this.pendingDiscontinuity;
    return { msn: this.nextMsn, gen: this.gen, discontinuity: d, discontinuitySequence: this.discontinuities + (d ? 1 : 0) };
  }

  /**
   * A closed segment's whole bytes (the concatenation of its parts), made on the first call and kept; the part
   * references are released then.
   */
  segmentBytes(seg: StoredSegment): Buffer {
    if (!seg.bytes) {
      seg.bytes = seg.chunks.length === 1 && seg.chunks[0] ? seg.chunks[0] : Buffer.concat(seg.chunks, seg.byteLength);
      seg.chunks = [];
    }
    return seg.bytes;
  }

  /** The last part in the playlist as (msn, index within its segment), or null when none. */
  /**
   * Whether every segment of the window (closed and open) starts with a keyframe: the condition of
   * `EXT-X-INDEPENDENT-SEGMENTS` (RFC 8216bis §4.4.2.1: all media samples of a segment can be decoded without
   * information from other segments), false while a force-cut segment is in the window.
   */
  segmentsIndependent(): boolean {
    return this.segments.every((s) => s.startsIndependent) && (this.open?.startsIndependent ?? true);
  }

  lastPart(): { msn: number; index: number } | null {
    if (this.open && this.open.parts.length > 0) return { msn: this.open.msn, index: this.open.parts.length - 1 };
    const last = this.segments.at(-1);
    if (last && !last.partsDropped && last.parts.length > 0) return { msn: last.msn, index: last.parts.length - 1 };
    return null;
  }

  /** Media sequence number of the last complete segment, or -1. */
  lastCompleteMsn(): number {
    return this.segments.at(-1)?.msn ?? -1;
  }

  /** A part still in memory by its number. */
  findPart(n: number): StoredPart | null {
    const search = (parts: StoredPart[]): StoredPart | null => {
      const first = parts[0];
      if (!first || n < first.n || n > first.n + parts.length - 1) return null;
      return parts[n - first.n] ?? null;
    };
    if (this.open) {
      const p = search(this.open.parts);
      if (p) return p;
    }
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      if (!s || s.partsDropped) break;
      const p = search(s.parts);
      if (p) return p;
    }
    return null;
  }

  /** A closed segment of the window by media sequence number. */
  findSegment(msn: number): StoredSegment | null {
    const first = this.segments[0];
    if (!first) return null;
    return this.segments[msn - first.msn] ?? null;
  }

  /** Measured bandwidth over the window (bits/s): peak and average segment bit rate; null before a closed segment (start-up segments left out). */
  measuredBandwidth(): { peak: number; average: number } | null {
    let peak = 0;
    let bits = 0;
    let seconds = 0;
    for (const s of this.segments) {
      // A start-up segment is little more than a keyframe: its rate says nothing about the stream's.
      if (s.durationSeconds <= 0 || s.startup) continue;
      peak = Math.max(peak, (s.byteLength * 8) / s.durationSeconds);
      bits += s.byteLength * 8;
      seconds += s.durationSeconds;
    }
    if (seconds <= 0) return null;
    return { peak: Math.ceil(peak), average: Math.ceil(bits / seconds) };
  }

  /** URL of init generation `gen`, relative to the channel directory. */
  initUri(gen: number): string {
    return hlsInitFile(this.name, this.channel.epoch, gen);
  }
  /** URL of segment `msn`. */
  segmentUri(msn: number): string {
    return hlsSegmentFile(this.name, this.channel.epoch, msn);
  }
  /** URL of part `n`. */
  partUri(n: number): string {
    return hlsPartFile(this.name, this.channel.epoch, n);
  }
}

type ResolvedOptions = Required<LiveMediaStoreOptions>;

/** One live channel in the store. */
export class ChannelState implements ChannelMediaSink {
  readonly renditions = new Map<string, RenditionState>();
  /** Bumped on every change of any rendition (the multivariant playlist and rendition reports depend on all). */
  version = 0;
  ended = false;
  /** Pending forget timer of `close`. */
  closeTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly username: string,
    /** Base-36 open time in ms: the `<epoch>` of this session's immutable URLs. */
    readonly epoch: string,
    readonly options: ResolvedOptions,
    private readonly notify: (channel: ChannelState, rendition: RenditionState) => void,
  ) {}

  /** {@inheritDoc ChannelMediaSink.rendition} */
  rendition(name: string): RenditionState {
    let r = this.renditions.get(name);
    if (!r) {
      if (!/^[a-z0-9]{1,16}$/.test(name)) throw new Error(`invalid rendition name ${JSON.stringify(name)}`);
      r = new RenditionState(name, this);
      this.renditions.set(name, r);
    }
    return r;
  }

  /** {@inheritDoc ChannelMediaSink.end} */
  end(): void {
    this.ended = true;
    for (const r of this.renditions.values()) r.end();
  }

  /** Called by a rendition after each change. */
  changed(r: RenditionState): void {
    r.version++;
    this.version++;
    this.notify(this, r);
  }
}

/** A listener of store changes: called once per change of a rendition (a part, a segment, an init, the end). */
export type StoreListener = (channel: ChannelState, rendition: RenditionState) => void;

/**
 * The in-memory live media store. `open` returns the channel's sink; the origin reads `channel(username)`.
 */
export class LiveMediaStore implements LiveMediaSink, KeyframeSource {
  readonly options: ResolvedOptions;
  private readonly channels = new Map<string, ChannelState>();
  private readonly listeners = new Set<StoreListener>();

  /** @throws {RangeError} for non-positive durations or windows. */
  constructor(options: LiveMediaStoreOptions) {
    const targetDurationSeconds = options.targetDurationSeconds ?? Math.max(2, Math.ceil(options.segmentSeconds));
    const windowSegments = options.windowSegments ?? 6;
    this.options = {
      segmentSeconds: options.segmentSeconds,
      partTargetSeconds: options.partTargetSeconds,
      targetDurationSeconds,
      windowSegments,
      partSegments: Math.min(options.partSegments ?? 2, windowSegments),
      startupSegmentSeconds: options.startupSegmentSeconds ?? options.partTargetSeconds,
      now: options.now ?? Date.now,
    };
    const o = this.options;
    if (!(o.segmentSeconds > 0) || !(o.partTargetSeconds > 0) || !Number.isInteger(o.targetDurationSeconds) || o.targetDurationSeconds < o.segmentSeconds || windowSegments < 1 || o.partSegments < 1 || !(o.startupSegmentSeconds > 0)) {
      throw new RangeError('invalid live media store options');
    }
  }

  /** {@inheritDoc LiveMediaSink.open} */
  open(username: string): ChannelState {
    let ch = this.channels.get(username);
    if (ch && !ch.ended) {
      if (ch.closeTimer) clearTimeout(ch.closeTimer);
      ch.closeTimer = null;
      return ch;
    }
    if (ch?.closeTimer) clearTimeout(ch.closeTimer);
    // A new session: a new epoch (strictly greater than the previous one, even within the same millisecond).
    const epochMs = Math.max(this.options.now(), ch ? parseInt(ch.epoch, 36) + 1 : 0);
    ch = new ChannelState(username, epochMs.toString(36), this.options, (c, r) => this.emit(c, r));
    this.channels.set(username, ch);
    return ch;
  }

  /** {@inheritDoc LiveMediaSink.close} */
  close(username: string, afterMs: number): void {
    const ch = this.channels.get(username);
    if (!ch) return;
    if (!ch.ended) ch.end();
    if (ch.closeTimer) clearTimeout(ch.closeTimer);
    ch.closeTimer = setTimeout(() => {
      if (this.channels.get(username) === ch) this.channels.delete(username);
    }, Math.max(0, afterMs));
    ch.closeTimer.unref();
  }

  /** The channel's live state, or undefined. */
  channel(username: string): ChannelState | undefined {
    return this.channels.get(username);
  }

  /** Usernames of the channels in memory. */
  usernames(): string[] {
    return [...this.channels.keys()];
  }

  /** Subscribes to changes; @returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** {@inheritDoc KeyframeSource.latestKeyframe} — from the highest-bandwidth rendition that has one. */
  latestKeyframe(username: string): { initSegment: Buffer; part: Buffer; at: number } | null {
    const ch = this.channels.get(username);
    if (!ch || ch.ended) return null;
    let best: { initSegment: Buffer; part: Buffer; at: number; bandwidth: number } | null = null;
    for (const r of ch.renditions.values()) {
      const k = r.latestKeyframe;
      const init = k ? r.inits.get(k.gen) : undefined;
      if (!k || !init) continue;
      if (!best || r.descriptor.bandwidth > best.bandwidth) best = { initSegment: init, part: k.part.data, at: k.part.receivedAtMs, bandwidth: r.descriptor.bandwidth };
    }
    return best && { initSegment: best.initSegment, part: best.part, at: best.at };
  }

  /** Forgets every channel now (shutdown). */
  clear(): void {
    for (const ch of this.channels.values()) if (ch.closeTimer) clearTimeout(ch.closeTimer);
    this.channels.clear();
  }

  private emit(c: ChannelState, r: RenditionState): void {
    for (const l of this.listeners) l(c, r);
  }
}
