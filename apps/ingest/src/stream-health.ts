/**
 * Measured health of one publisher's input (issue 4 part 6, `GET /admin/health`): bitrate, frame rate and keyframe
 * interval, taken from the RTMP media packets node-media-server parses (node_modules/node-media-server/src/protocol/
 * flv.js `parserTag`): `codec_type` 8 = audio, 9 = video (FLV tag types, Adobe FLV spec v10.1 §E.4.1); video `flags`
 * 3 = a coded keyframe, 4 = a coded inter frame, 2 = the decoder configuration (no frame); `dts` is the RTMP
 * timestamp in milliseconds; `size` the tag payload in bytes.
 *
 * - bitrate: payload bytes of the packets that arrived in the last {@link HEALTH_WINDOW_MS} of wall-clock time,
 *   ×8 / window (kbit/s), split into video and audio. RTMP chunk headers are not counted (a few per cent).
 * - fps: video frames in the window ÷ the span of their timestamps (media time, so bursts of network delivery do not
 *   distort it).
 * - keyframe interval: the timestamp distance between consecutive keyframes; the mean of the last
 *   {@link KEYFRAME_HISTORY} intervals and the largest of them.
 */
import type { InputHealth } from '@eventcast/contracts';

/** The fields of a node-media-server AVPacket read here. */
export interface MediaPacket {
  codec_type: number;
  flags: number;
  dts: number;
  size: number;
}

/** Wall-clock window of the bitrate and fps (ms). */
export const HEALTH_WINDOW_MS = 5000;
/** Keyframe intervals remembered. */
export const KEYFRAME_HISTORY = 5;

const AUDIO = 8;
const VIDEO = 9;
const KEYFRAME = 3;
const INTER_FRAME = 4;

/**
 * A snapshot of {@link StreamHealthMeter}: the contract's `InputHealth` (`inputHealthSchema` of @eventcast/contracts,
 * ingest-health.ts: units and meanings). Null fields: not measurable yet (too few packets).
 */
export type { InputHealth };

interface Entry {
  at: number;
  video: boolean;
  size: number;
  /** Media timestamp of a video frame, else -1. */
  frameDts: number;
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Measures one publisher's packets. Not thread-bound; O(packets in the window) memory. */
export class StreamHealthMeter {
  private readonly entries: Entry[] = [];
  private head = 0;
  private readonly intervals: number[] = [];
  private lastKeyDts: number | null = null;
  private lastKeyAt: number | null = null;
  private lastPacketAt: number | null = null;
  private readonly startedAt: number;
  private videoFrames = 0;
  private keyframes = 0;

  /** @param now wall clock in ms (tests pass their own). */
  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  /** Records one packet (call for every packet of the publisher, in arrival order). */
  onPacket(p: MediaPacket): void {
    const at = this.now();
    this.lastPacketAt = at;
    if (p.codec_type !== AUDIO && p.codec_type !== VIDEO) return;
    const frame = p.codec_type === VIDEO && (p.flags === KEYFRAME || p.flags === INTER_FRAME);
    this.entries.push({ at, video: p.codec_type === VIDEO, size: Math.max(0, p.size | 0), frameDts: frame ? p.dts : -1 });
    if (frame) this.videoFrames += 1;
    if (frame && p.flags === KEYFRAME) {
      this.keyframes += 1;
      if (this.lastKeyDts !== null && p.dts > this.lastKeyDts) {
        this.intervals.push(p.dts - this.lastKeyDts);
        if (this.intervals.length > KEYFRAME_HISTORY) this.intervals.shift();
      }
      this.lastKeyDts = p.dts;
      this.lastKeyAt = at;
    }
    this.prune(at);
  }

  private prune(at: number): void {
    while (this.head < this.entries.length && this.entries[this.head]!.at < at - HEALTH_WINDOW_MS) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The current measurements (see {@link InputHealth}). */
  snapshot(): InputHealth {
    const at = this.now();
    this.prune(at);
    const windowMs = Math.min(HEALTH_WINDOW_MS, Math.max(0, at - this.startedAt));
    let video = 0;
    let audio = 0;
    let frames = 0;
    let firstDts = Infinity;
    let lastDts = -Infinity;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.video) video += e.size;
      else audio += e.size;
      if (e.frameDts >= 0) {
        frames += 1;
        firstDts = Math.min(firstDts, e.frameDts);
        lastDts = Math.max(lastDts, e.frameDts);
      }
    }
    const kbps = (bytes: number) => (windowMs >= 1000 ? round((bytes * 8) / windowMs, 1) : null);
    const span = lastDts - firstDts;
    const intervals = this.intervals;
    return {
      windowSeconds: round(windowMs / 1000, 1),
      bitrateKbps: kbps(video + audio),
      videoBitrateKbps: kbps(video),
      audioBitrateKbps: kbps(audio),
      fps: frames >= 2 && span > 0 ? round(((frames - 1) * 1000) / span, 2) : null,
      keyframeIntervalSeconds: intervals.length > 0 ? round(intervals.reduce((a, b) => a + b, 0) / intervals.length / 1000, 2) : null,
      maxKeyframeIntervalSeconds: intervals.length > 0 ? round(Math.max(...intervals) / 1000, 2) : null,
      secondsSinceKeyframe: this.lastKeyAt === null ? null : round((at - this.lastKeyAt) / 1000, 1),
      videoFrames: this.videoFrames,
      keyframes: this.keyframes,
      secondsSinceLastPacket: this.lastPacketAt === null ? null : round((at - this.lastPacketAt) / 1000, 1),
    };
  }
}

/** The part of an NMS RTMP session the tap needs: its protocol parser's packet callback (rtmp_session.js `run`). */
export interface TappableSession {
  rtmp?: { onPacketCallback?: (packet: MediaPacket) => void };
}

/**
 * Feeds every media packet of `session` to `meter` before node-media-server handles it, by wrapping
 * `session.rtmp.onPacketCallback` (set in RtmpSession.run, i.e. before any publish event fires).
 * @returns false when the session has no such callback (another protocol or NMS version); nothing is changed then.
 */
export function tapPackets(session: TappableSession, meter: StreamHealthMeter): boolean {
  const rtmp = session.rtmp;
  const original = rtmp?.onPacketCallback;
  if (!rtmp || typeof original !== 'function') return false;
  rtmp.onPacketCallback = (packet: MediaPacket) => {
    try {
      meter.onPacket(packet);
    } catch {
      // Measuring must never break the stream.
    }
    original(packet);
  };
  return true;
}
