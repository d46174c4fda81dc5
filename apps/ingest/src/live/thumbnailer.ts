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
 * Throughput: one run (ffmpeg start included) took 0.10–0.16 s for a 1080p keyframe on this 2-core machine, ≈ 64 MB
 * peak RSS, so one serial queue keeps every channel within its interval up to about 100 live channels per ingest node
 * at the default interval; beyond that thumbnails simply get older (refreshed round-robin), nothing else is affected.
 *
 * ffmpeg (5.1) arguments, see https://ffmpeg.org/ffmpeg.html and https://ffmpeg.org/ffmpeg-codecs.html:
 * - input: `-threads 1 -skip_frame nokey -f mp4 -i pipe:0` — the mp4 demuxer reads a fragmented MP4 (`ftyp`+`moov`
 *   with empty sample tables, then `moof`+`mdat`) from a non-seekable pipe; one decoder thread so frame threading
 *   does not decode frames ahead.
 * - output: `-map 0:v:0 -frames:v 1 -vf scale=w='min(W,iw)':h=-2 -an -f image2 -c:v mjpeg -q:v Q pipe:1` — never
 *   upscales, keeps the aspect ratio (even height), JPEG quality Q on mjpeg's 2 (best) … 31 scale.
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
  /** Clock (ms since the epoch); tests replace it. */
  now?: () => number;
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
  private stopped = false;

  /** @throws {RangeError} when a setting is out of range. */
  constructor(private readonly opts: ThumbnailerOptions) {
    this.width = opts.width ?? DEFAULT_THUMBNAIL_WIDTH;
    this.quality = opts.quality ?? 5;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxJpegBytes = opts.maxJpegBytes ?? 1024 * 1024;
    this.pollMs = opts.pollMs ?? 1000;
    this.now = opts.now ?? Date.now;
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
    await this.running;
    this.channels.clear();
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
      const result = await this.encode(kf.initSegment, kf.part);
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

/** True for a complete JPEG: SOI `FF D8` … EOI `FF D9` (ITU-T T.81 §B.1.1.3 markers). */
function isJpeg(b: Buffer): boolean {
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}

/** The last two lines of ffmpeg's error output (the cause, then ffmpeg's conclusion), at most 300 characters. */
function lastLines(text: string): string {
  return text.trim().split('\n').slice(-2).join('; ').slice(-300);
}
