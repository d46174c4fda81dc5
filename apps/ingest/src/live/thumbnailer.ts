/**
 * Channel thumbnails from the packaged keyframes (issue 10 item 4): every `INGEST_THUMBNAIL_INTERVAL_MS` (default
 * 15000) each live channel's latest independent part (init segment + one `moof`+`mdat` that starts with a keyframe,
 * from {@link KeyframeSource}) is piped into ffmpeg, which decodes that ONE keyframe and writes one JPEG. No second
 * decode of the stream: one intra picture per channel per interval, with `-skip_frame nokey` so the decoder drops
 * the part's other frames unread and `-frames:v 1` so ffmpeg stops after the first picture.
 *
 * Bounds: one JPEG in memory per live channel (forgotten as soon as the channel is no longer live); at most one
 * ffmpeg at a time across all channels (a FIFO queue of due channels), each run with a deadline and an output size
 * cap. Failures (a corrupt part, ffmpeg missing, the deadline) are logged and keep the previous thumbnail; nothing
 * is thrown to the caller. The first thumbnail of a broadcast is made on the first poll (≤ `pollMs`, 1 s) after the
 * first independent part exists; later ones once the interval has passed AND a newer keyframe part exists.
 *
 * Warm decoders: starting ffmpeg is most of a thumbnail's cost (a one-shot run took 0.10–0.16 s and ≈ 0.1 s of CPU
 * for a 1080p keyframe on this 2-core machine, ≈ 40 % of it in the dynamic linker; 0.7 % of a core per channel at a
 * 15-s interval, measured in bench/results/ingest-cpu.md). So up to `warmDecoders` channels (default
 * {@link DEFAULT_WARM_DECODERS}) keep one ffmpeg each between thumbnails: it got the channel's init segment once and
 * gets each new keyframe part on its stdin; the JPEG comes back on its stdout a few milliseconds later (≈ 15 ms of
 * CPU). Both codecs run single-threaded: with frame threading the mjpeg encoder (and the h264 decoder) hold one frame
 * back, so a picture would only come out when the next part went in (measured). A new init segment (a packager
 * restart, a new picture size) or a failure replaces the warm ffmpeg; a channel that is no longer live stops it.
 * Channels beyond `warmDecoders` (≈ 60 MB RSS each, much of it shared libraries) use one-shot runs as before.
 * One serial queue keeps every channel within its interval up to about 100 live channels per ingest node at the
 * default interval even with one-shot runs; beyond that thumbnails simply get older (refreshed round-robin), nothing
 * else is affected.
 *
 * ffmpeg (5.1) arguments, see https://ffmpeg.org/ffmpeg.html and https://ffmpeg.org/ffmpeg-codecs.html:
 * - input: `-threads 1 -skip_frame nokey -f mp4 -i pipe:0` — the mp4 demuxer reads a fragmented MP4 (`ftyp`+`moov`
 *   with empty sample tables, then `moof`+`mdat`) from a non-seekable pipe; one decoder thread so frame threading
 *   does not decode frames ahead.
 * - output: `-map 0:v:0 -frames:v 1 -vf scale=w='min(W,iw)':h=-2 -an -f image2 -c:v mjpeg -q:v Q pipe:1` — never
 *   upscales, keeps the aspect ratio (even height), JPEG quality Q on mjpeg's 2 (best) … 31 scale.
 * - a warm decoder: `-probesize 32 -analyzeduration 0` (the init segment describes the streams; do not wait for more
 *   parts), and on the output `-fps_mode passthrough` (one picture per keyframe whatever the gap between them),
 *   `-f image2pipe -c:v mjpeg -threads 1 … -flush_packets 1`; pictures are split at the JPEG EOI marker `FF D9`
 *   (ITU-T T.81 §B.1.1.3; mjpeg's entropy-coded data stuffs every `FF` byte, so EOI cannot occur inside).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@eventcast/platform';
import { errorMessage } from '../util.js';
import type { KeyframeSource, ThumbnailSource } from './media-sink.js';

/** Settings of a {@link Thumbnailer}. Durations in milliseconds, sizes in bytes or pixels. */
export interface ThumbnailerOptions {
  /** Where keyframe parts come from (the live media store). */
  source: KeyframeSource;
  /** Usernames of the channels live on this node now (including those in the publisher's reconnect grace period). */
  liveChannels: () => Iterable<string>;
  /** `FFMPEG_PATH`. */
  ffmpegPath: string;
  /** `INGEST_THUMBNAIL_INTERVAL_MS`: minimum time between two thumbnails of one channel. */
  intervalMs: number;
  log: Logger;
  /** Largest picture width (default {@link DEFAULT_THUMBNAIL_WIDTH}); narrower sources keep their width. */
  width?: number;
  /** mjpeg `-q:v`, 2 (best, biggest) … 31 (default 5). */
  quality?: number;
  /** Deadline of one ffmpeg run (default 5000); ffmpeg is killed after it. */
  timeoutMs?: number;
  /** Largest JPEG accepted (default 1 MiB); ffmpeg is killed when its output grows beyond it. */
  maxJpegBytes?: number;
  /** How often due channels are looked for (default 1000). */
  pollMs?: number;
  /**
   * Channels that keep a warm ffmpeg between thumbnails (default {@link DEFAULT_WARM_DECODERS}; 0 = one-shot runs
   * only; `INGEST_THUMBNAIL_WARM_DECODERS`).
   */
  warmDecoders?: number;
  /** Clock (ms since the epoch); tests replace it. */
  now?: () => number;
}

/** Default {@link ThumbnailerOptions.warmDecoders}. */
export const DEFAULT_WARM_DECODERS = 16;

/** A channel's warm ffmpeg (see the module comment): the init segment it was started with, its pending picture. */
interface WarmDecoder {
  child: ChildProcess;
  initSegment: Buffer;
  /** Bytes written to stdout since the last complete picture. */
  out: Buffer[];
  outBytes: number;
  stderr: string;
  /** The request waiting for the next picture. */
  pending: { resolve: (r: RunResult) => void; deadline: NodeJS.Timeout } | null;
  closed: boolean;
}

/** Default largest thumbnail width in pixels: a directory card is ≈ 320 CSS px wide, 2× for high-density screens. */
export const DEFAULT_THUMBNAIL_WIDTH = 640;
/** Default `INGEST_THUMBNAIL_INTERVAL_MS`. */
export const DEFAULT_THUMBNAIL_INTERVAL_MS = 15_000;
/** One channel's state. */
interface ChannelThumbnail {
  /** The current picture, or null before the first success. */
  thumbnail: { jpeg: Buffer; at: number } | null;
  /** `at` of the keyframe part last turned (or tried to turn) into a picture; null before the first run. */
  sourceAt: number | null;
  /** Not before this time (ms) is the channel due again. */
  dueAt: number;
  /** In the queue or being encoded now. */
  queued: boolean;
}

/** The outcome of one ffmpeg run. */
type RunResult = { ok: true; jpeg: Buffer } | { ok: false; reason: string };

/** Makes and keeps the channel thumbnails; serves them to the origin as a {@link ThumbnailSource}. */
export class Thumbnailer implements ThumbnailSource {
  private readonly channels = new Map<string, ChannelThumbnail>();
  private readonly queue: string[] = [];
  private readonly width: number;
  private readonly quality: number;
  private readonly timeoutMs: number;
  private readonly maxJpegBytes: number;
  private readonly pollMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private child: ChildProcess | null = null;
  private readonly warm = new Map<string, WarmDecoder>();
  private readonly warmDecoders: number;
  private stopped = false;

  /** @throws {RangeError} when a setting is out of range. */
  constructor(private readonly opts: ThumbnailerOptions) {
    this.width = opts.width ?? DEFAULT_THUMBNAIL_WIDTH;
    this.quality = opts.quality ?? 5;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxJpegBytes = opts.maxJpegBytes ?? 1024 * 1024;
    this.pollMs = opts.pollMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.warmDecoders = opts.warmDecoders ?? DEFAULT_WARM_DECODERS;
    if (!Number.isInteger(this.warmDecoders) || this.warmDecoders < 0) throw new RangeError('warm decoders must be a whole number ≥ 0');
    if (!Number.isInteger(this.width) || this.width < 16 || this.width > 4096) throw new RangeError('thumbnail width must be an integer from 16 to 4096');
    if (!Number.isInteger(this.quality) || this.quality < 2 || this.quality > 31) throw new RangeError('thumbnail quality must be an integer from 2 to 31');
    if (!(opts.intervalMs >= 1000)) throw new RangeError('thumbnail interval must be at least 1000 ms');
  }

  /** Starts polling (idempotent). */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
    this.poll();
  }

  /** Stops polling, kills a running ffmpeg and forgets every thumbnail (idempotent). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.child?.kill('SIGKILL');
    for (const username of [...this.warm.keys()]) this.stopWarm(username, 'the thumbnailer stopped');
    await this.running;
    this.channels.clear();
  }

  /** Channels with a warm ffmpeg now (tests, metrics). */
  warmCount(): number {
    return this.warm.size;
  }

  /** The channel's current JPEG and when it was made (ms since the epoch); null when none (yet) or not live. */
  thumbnail(username: string): { jpeg: Buffer; at: number } | null {
    return this.channels.get(username)?.thumbnail ?? null;
  }

  /**
   * One look at the live channels: forgets those no longer live, queues the due ones that have a new keyframe part,
   * and starts the queue. Called every `pollMs` after {@link start}; public for tests.
   */
  poll(): void {
    if (this.stopped) return;
    const live = new Set(this.opts.liveChannels());
    for (const username of this.channels.keys()) {
      if (!live.has(username)) this.channels.delete(username);
    }
    for (const username of [...this.warm.keys()]) {
      if (!live.has(username)) this.stopWarm(username, 'the channel is no longer live');
    }
    const now = this.now();
    for (const username of live) {
      let ch = this.channels.get(username);
      if (!ch) {
        ch = { thumbnail: null, sourceAt: null, dueAt: 0, queued: false };
        this.channels.set(username, ch);
      }
      if (ch.queued || now < ch.dueAt) continue;
      const kf = this.opts.source.latestKeyframe(username);
      if (!kf || kf.at === ch.sourceAt) continue;
      ch.queued = true;
      this.queue.push(username);
    }
    this.pump();
  }

  /** Starts the queue's runner unless it runs already or there is nothing to do. */
  private pump(): void {
    if (this.running || this.queue.length === 0 || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      this.pump(); // channels queued between the runner's last look and this callback
    });
  }

  /** Runs the queue one channel at a time until it is empty. */
  private async drain(): Promise<void> {
    for (let username = this.queue.shift(); username !== undefined && !this.stopped; username = this.queue.shift()) {
      const ch = this.channels.get(username);
      if (!ch) continue; // ended while queued
      // The freshest keyframe at run time, not the one seen when queued.
      const kf = this.opts.source.latestKeyframe(username);
      if (!kf) {
        ch.queued = false;
        continue;
      }
      const started = this.now();
      const useWarm = this.warm.has(username) || this.warm.size < this.warmDecoders;
      const result = useWarm ? await this.encodeWarm(username, kf.initSegment, kf.part) : await this.encode(kf.initSegment, kf.part);
      ch.queued = false;
      ch.sourceAt = kf.at;
      ch.dueAt = started + this.opts.intervalMs;
      if (this.channels.get(username) !== ch) continue; // ended (and maybe restarted) meanwhile: the picture is stale
      if (result.ok) {
        ch.thumbnail = { jpeg: result.jpeg, at: this.now() };
        this.opts.log.debug({ username, bytes: result.jpeg.length, ms: this.now() - started }, 'thumbnail made');
      } else if (!this.stopped) {
        this.opts.log.warn({ username, err: result.reason, keptPrevious: ch.thumbnail !== null }, 'thumbnail failed');
      }
    }
  }

  /** ffmpeg arguments of one run (see the module comment). */
  ffmpegArgs(): string[] {
    return [
      '-hide_banner', '-loglevel', 'error',
      '-threads', '1', '-skip_frame', 'nokey', '-f', 'mp4', '-i', 'pipe:0',
      '-map', '0:v:0', '-frames:v', '1', '-vf', `scale=w='min(${this.width},iw)':h=-2`, '-an',
      '-f', 'image2', '-c:v', 'mjpeg', '-q:v', String(this.quality), 'pipe:1',
    ];
  }

  /** ffmpeg arguments of a warm decoder (see the module comment). */
  warmFfmpegArgs(): string[] {
    return [
      '-hide_banner', '-loglevel', 'error',
      '-threads', '1', '-skip_frame', 'nokey', '-probesize', '32', '-analyzeduration', '0', '-f', 'mp4', '-i', 'pipe:0',
      '-map', '0:v:0', '-vf', `scale=w='min(${this.width},iw)':h=-2`, '-an', '-fps_mode', 'passthrough',
      '-f', 'image2pipe', '-c:v', 'mjpeg', '-threads', '1', '-q:v', String(this.quality), '-flush_packets', '1', 'pipe:1',
    ];
  }

  /**
   * The channel's picture of `part` from its warm ffmpeg, started (with `initSegment`) when there is none or it was
   * started with another init segment. Never rejects; a failure stops that ffmpeg (the next run starts a new one).
   */
  private encodeWarm(username: string, initSegment: Buffer, part: Buffer): Promise<RunResult> {
    let d = this.warm.get(username);
    if (d && d.initSegment !== initSegment) {
      this.stopWarm(username, 'a new init segment');
      d = undefined;
    }
    if (!d) {
      const started = this.startWarm(username, initSegment);
      if (!started.ok) return Promise.resolve(started);
      d = started.decoder;
    }
    const decoder = d;
    return new Promise<RunResult>((resolve) => {
      const deadline = setTimeout(() => this.stopWarm(username, `ffmpeg took longer than ${this.timeoutMs} ms`), this.timeoutMs);
      decoder.pending = { resolve, deadline };
      decoder.child.stdin?.write(part);
    });
  }

  /** Starts a channel's warm ffmpeg and writes the init segment. */
  private startWarm(username: string, initSegment: Buffer): { ok: true; decoder: WarmDecoder } | { ok: false; reason: string } {
    let child: ChildProcess;
    try {
      child = spawn(this.opts.ffmpegPath, this.warmFfmpegArgs(), { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err: unknown) {
      return { ok: false, reason: `cannot start ffmpeg: ${errorMessage(err)}` };
    }
    const d: WarmDecoder = { child, initSegment, out: [], outBytes: 0, stderr: '', pending: null, closed: false };
    this.warm.set(username, d);
    child.stdout?.on('data', (chunk: Buffer) => this.onWarmOutput(username, d, chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      d.stderr = (d.stderr + chunk.toString()).slice(-1000);
    });
    child.stdin?.on('error', () => undefined);
    child.once('error', (err) => this.stopWarm(username, `ffmpeg: ${err.message}`, d));
    child.once('close', (code, signal) => {
      d.closed = true;
      this.stopWarm(username, `ffmpeg exited with ${code ?? signal}${d.stderr ? `: ${lastLines(d.stderr)}` : ''}`, d);
    });
    child.stdin?.write(initSegment);
    return { ok: true, decoder: d };
  }

  /** Collects a warm ffmpeg's output; each complete JPEG answers the pending request. */
  private onWarmOutput(username: string, d: WarmDecoder, chunk: Buffer): void {
    d.out.push(chunk);
    d.outBytes += chunk.length;
    for (;;) {
      const all = d.out.length === 1 && d.out[0] ? d.out[0] : Buffer.concat(d.out, d.outBytes);
      const eoi = all.indexOf(JPEG_EOI);
      if (eoi < 0) {
        d.out = all.length > 0 ? [all] : [];
        if (d.outBytes > this.maxJpegBytes) this.stopWarm(username, `ffmpeg wrote more than ${this.maxJpegBytes} bytes`, d);
        return;
      }
      if (eoi + JPEG_EOI.length > this.maxJpegBytes) {
        this.stopWarm(username, `ffmpeg wrote more than ${this.maxJpegBytes} bytes`, d);
        return;
      }
      const jpeg = Buffer.from(all.subarray(0, eoi + JPEG_EOI.length));
      const rest = all.subarray(eoi + JPEG_EOI.length);
      d.out = rest.length > 0 ? [rest] : [];
      d.outBytes = rest.length;
      const pending = d.pending;
      d.pending = null;
      if (pending) {
        clearTimeout(pending.deadline);
        pending.resolve(isJpeg(jpeg) ? { ok: true, jpeg } : { ok: false, reason: 'ffmpeg wrote no picture' });
      }
    }
  }

  /** Stops a channel's warm ffmpeg (only `expected`, when given) and fails its pending request with `reason`. */
  private stopWarm(username: string, reason: string, expected?: WarmDecoder): void {
    const d = this.warm.get(username);
    if (!d || (expected && d !== expected)) {
      if (expected?.pending) {
        clearTimeout(expected.pending.deadline);
        expected.pending.resolve({ ok: false, reason });
        expected.pending = null;
      }
      return;
    }
    this.warm.delete(username);
    if (!d.closed) d.child.kill('SIGKILL');
    if (d.pending) {
      clearTimeout(d.pending.deadline);
      d.pending.resolve({ ok: false, reason });
      d.pending = null;
    }
  }

  /** Decodes the first keyframe of `init + part` into a JPEG. Never rejects. */
  private encode(initSegment: Buffer, part: Buffer): Promise<RunResult> {
    return new Promise<RunResult>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(this.opts.ffmpegPath, this.ffmpegArgs(), { stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (err: unknown) {
        resolve({ ok: false, reason: `cannot start ffmpeg: ${errorMessage(err)}` });
        return;
      }
      this.child = child;
      const chunks: Buffer[] = [];
      let size = 0;
      let stderr = '';
      let failure: string | null = null;
      const fail = (reason: string): void => {
        failure ??= reason;
        child.kill('SIGKILL');
      };
      const deadline = setTimeout(() => fail(`ffmpeg took longer than ${this.timeoutMs} ms`), this.timeoutMs);
      child.stdout?.on('data', (d: Buffer) => {
        size += d.length;
        if (size > this.maxJpegBytes) fail(`ffmpeg wrote more than ${this.maxJpegBytes} bytes`);
        else chunks.push(d);
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-1000);
      });
      // ffmpeg may exit after its one picture before reading the whole input: EPIPE on stdin is expected.
      child.stdin?.on('error', () => undefined);
      child.once('error', (err) => fail(`ffmpeg: ${err.message}`));
      child.once('close', (code, signal) => {
        clearTimeout(deadline);
        if (this.child === child) this.child = null;
        const jpeg = Buffer.concat(chunks);
        if (failure !== null) resolve({ ok: false, reason: failure });
        else if (code !== 0) resolve({ ok: false, reason: `ffmpeg exited with ${code ?? signal}: ${lastLines(stderr)}` });
        else if (!isJpeg(jpeg)) resolve({ ok: false, reason: `ffmpeg wrote no picture${stderr ? `: ${lastLines(stderr)}` : ''}` });
        else resolve({ ok: true, jpeg });
      });
      child.stdin?.write(initSegment);
      child.stdin?.end(part);
    });
  }
}

/** The JPEG end-of-image marker (ITU-T T.81 §B.1.1.3). */
const JPEG_EOI = Buffer.from([0xff, 0xd9]);

/** True for a complete JPEG: SOI `FF D8` … EOI `FF D9` (ITU-T T.81 §B.1.1.3 markers). */
function isJpeg(b: Buffer): boolean {
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}

/** The last two lines of ffmpeg's error output (the cause, then ffmpeg's conclusion), at most 300 characters. */
function lastLines(text: string): string {
  return text.trim().split('\n').slice(-2).join('; ').slice(-300);
}
