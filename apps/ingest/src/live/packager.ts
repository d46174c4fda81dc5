/**
 * The LL-HLS packager of one channel (issue 10 items 1, 3, 9): one ffmpeg process reads the channel's internal RTMP
 * URL and writes one fragmented MP4 stream per rendition to a pipe (./ffmpeg-args.ts); this class cuts each stream
 * into boxes (./fmp4.ts), hands the init segment (`ftyp` + `moov`) and every fragment (`moof` + `mdat`, ≈ one part
 * of `HLS_PART_SECONDS`) to the live media store through {@link ChannelMediaSink} (./media-sink.ts).
 *
 * - Parts: each ffmpeg fragment is one part (ffmpeg cuts at every video keyframe and at the part duration); a
 *   fragment without video samples is held and sent with the next one (after 5 such fragments, on its own, timed by
 *   its audio and not independent, so a stalled video track never makes the packager buffer without bound). `durationSeconds` = the video samples'
 *   durations ÷ the `mdhd` timescale; `independent` = the first video sample is a sync sample.
 * - Program date-time: the first part of an ffmpeg run anchors wall clock = its arrival − its duration at its
 *   `tfdt` decode time; every part of every rendition of that run is placed at anchor + (its `tfdt` − the anchor's),
 *   so renditions agree with each other.
 * - Keyframe interval: while the source is copied, media time since the last independent part of `source` is
 *   watched; once it exceeds the threshold (`INGEST_KEYFRAME_FIX_SECONDS` + 5 % for 29.97-fps rounding), ffmpeg is
 *   restarted at once in re-encode mode (every rendition encoded with 1-s keyframes) without waiting for the next
 *   keyframe. Parts without video samples (audio sent alone while the video stalls) do not count. Re-encoding costs
 *   ≈ 0.6–0.9 of a core per 720p–1080p source (docs/design.md), so a node re-encodes at most `INGEST_MAX_REENCODES`
 *   channels at once ({@link ReencodeBudget}); beyond it the channel stays in passthrough and its `modeReason` says
 *   why. The re-encoded source is at most 1080 lines high (scaled down, never up: ./ladder.ts). The mode and its
 *   reason are in {@link PackagerStatus} (`GET /admin/health` → `packager`). A new
 *   publisher session ({@link LivePackager.newPublisher}) restarts ffmpeg at once, in passthrough again.
 * - Restarts: ffmpeg exiting (or writing malformed MP4) while the publisher is connected is restarted with
 *   exponential backoff (0.5 s, 1 s, 2 s … ≤ 8 s), at most `maxRestarts` times (the counter resets after a minute of
 *   stable running and on a new publisher session). Every run sends a new `init`: the store adds a discontinuity
 *   and keeps the media sequence numbers growing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { PackagerMode, PackagerProgress, PackagerStatus } from '@eventcast/contracts';
import type { Logger } from '@eventcast/platform';
import { packagerMetrics } from '../metrics.js';
import { redact } from '../redact.js';
import { packagerArgs, renditionFd } from './ffmpeg-args.js';
import { BoxSplitter, Mp4FormatError, parseInit, parseMoof, type Mp4Init } from './fmp4.js';
import { planRenditions, type RenditionPlan } from './ladder.js';
import type { ChannelMediaSink, RenditionDescriptor } from './media-sink.js';

/**
 * The packager ffmpeg's last complete `-progress` block, {@link PackagerStatus} (`GET /admin/health` →
 * `channels[].packager`) and its {@link PackagerMode}: the contract's types (ingest-health.ts of
 * @eventcast/contracts, `packagerProgressSchema`, `packagerStatusSchema`, `packagerModeSchema`: units and meanings).
 */
export type { PackagerMode, PackagerProgress, PackagerStatus };

/** Parses one `-progress` block (`key=value` lines). Unknown or `N/A` values → null. */
export function parseProgressBlock(lines: readonly string[], at: Date): PackagerProgress {
  const kv = new Map<string, string>();
  for (const line of lines) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const num = (k: string, strip = ''): number | null => {
    const raw = kv.get(k);
    if (raw === undefined) return null;
    const n = Number(strip ? raw.replace(strip, '') : raw);
    return raw !== 'N/A' && raw !== '' && Number.isFinite(n) ? n : null;
  };
  const outUs = num('out_time_us') ?? num('out_time_ms');
  return {
    frames: num('frame'),
    fps: num('fps'),
    dropFrames: num('drop_frames'),
    dupFrames: num('dup_frames'),
    speed: num('speed', 'x'),
    outTimeSeconds: outUs === null ? null : Math.round(outUs / 1000) / 1000,
    at: at.toISOString(),
  };
}

/** What the source looks like, from the publisher's metadata or ffprobe; nulls when unknown. */
export interface SourceInfo {
  height: number | null;
  frameRate: number | null;
  videoKbps: number | null;
  audioKbps: number | null;
}

/**
 * The node-wide budget of concurrent keyframe-fix re-encodes (`INGEST_MAX_REENCODES`): one slot per channel whose
 * source is re-encoded. Shared by every {@link LivePackager} of the process.
 */
export class ReencodeBudget {
  private used = 0;

  /** @param limit slots (≥ 0; 0 = never re-encode). */
  constructor(readonly limit: number) {}

  /** Channels re-encoding now. */
  get active(): number {
    return this.used;
  }

  /** Takes a slot; false when all {@link limit} are taken. */
  tryAcquire(): boolean {
    if (this.used >= this.limit) return false;
    this.used += 1;
    return true;
  }

  /** Gives a slot back (call once per successful {@link tryAcquire}). */
  release(): void {
    this.used = Math.max(0, this.used - 1);
  }
}

/** Settings of one {@link LivePackager}. */
export interface LivePackagerOptions {
  ffmpegPath: string;
  /** Internal RTMP URL `rtmp://127.0.0.1:<port>/live/<key>`; contains the key: never logged. */
  inputUrl: string;
  /** The stream key, only to redact it from ffmpeg's output. */
  secret: string;
  /** `HLS_PART_SECONDS`: the part target. */
  partSeconds: number;
  /** Rendition names of the ladder (`source` first; ./ladder.ts). */
  renditions: readonly string[];
  /** `INGEST_KEYFRAME_FIX`: re-encode a source whose keyframe interval exceeds `keyframeFixSeconds`. */
  keyframeFix: boolean;
  /** `INGEST_KEYFRAME_FIX_SECONDS` (default 2). */
  keyframeFixSeconds: number;
  /** The node's re-encode slots (`INGEST_MAX_REENCODES`); absent = unlimited (tests). */
  reencodeBudget?: ReencodeBudget;
  /** What is known about the source when ffmpeg starts (asked before every run). */
  source: () => SourceInfo;
  /** The store's side of the channel. */
  sink: ChannelMediaSink;
  /** Restarts allowed while `shouldRun()` holds; the counter resets after a minute of stable running. */
  maxRestarts: number;
  /** Whether ffmpeg should be running now (publisher connected). Asked before each restart. */
  shouldRun: () => boolean;
  log: Logger;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

/** Keyframe interval of the encoded renditions in re-encode mode, seconds. */
export const REENCODE_KEYFRAME_SECONDS = 1;
/** Tolerance above the keyframe threshold before re-encoding (a 2-s GOP at 29.97 fps is 2.002 s). */
const KEYFRAME_TOLERANCE = 1.05;
const STABLE_MS = 60_000;
const SECOND_TERM_MS = 1000;
const KILL_AFTER_MS = 4000;
/** Fragments without video samples held before they are sent on their own (≈ 1 s at 0.2-s fragments). */
const MAX_HELD_FRAGMENTS = 5;
/** Audio bitrate assumed in BANDWIDTH when the source's is unknown, kbit/s. */
const AUDIO_KBPS_GUESS = 160;

/** State shared by the renditions of one ffmpeg run. */
interface Run {
  child: ChildProcess;
  plans: RenditionPlan[];
  /** Wall-clock anchor of the run's program date-time: `wallMs` at media time `mediaSeconds`. */
  anchor: { wallMs: number; mediaSeconds: number } | null;
  /** Set when a pipe carried malformed MP4: the run is being killed, its output is ignored. */
  failed: boolean;
  /** The run's last reported `drop_frames`. */
  dropFrames: number;
}

/**
 * Reads one rendition's fMP4 pipe: init segment, then fragments grouped into parts.
 */
class RenditionReader {
  private readonly splitter = new BoxSplitter();
  private initBoxes: Buffer[] = [];
  private init: Mp4Init | null = null;
  /** Boxes of the fragment(s) not yet sent (held while they carry no video time). */
  private pending: Buffer[] = [];
  private pendingTicks = 0;
  private pendingIndependent: boolean | null = null;
  private pendingDecodeSeconds: number | null = null;
  private accumulatedSeconds = 0;
  /** Longest other-track duration of held fragments without video samples, seconds. */
  private heldSeconds = 0;
  private moof: Buffer | null = null;

  constructor(
    private readonly packager: LivePackager,
    private readonly run: Run,
    private readonly plan: RenditionPlan,
  ) {}

  /** Feeds pipe bytes. @throws {Mp4FormatError} on malformed MP4. */
  push(chunk: Buffer): void {
    for (const box of this.splitter.push(chunk)) this.box(box.type, box.data);
  }

  private box(type: string, data: Buffer): void {
    if (!this.init) {
      if (type === 'moov') {
        this.initBoxes.push(data);
        const initSegment = Buffer.concat(this.initBoxes);
        this.init = parseInit(initSegment);
        this.packager.onInit(this.plan, initSegment, this.init);
      } else if (type === 'ftyp') this.initBoxes = [data];
      else if (type !== 'free' && type !== 'skip') throw new Mp4FormatError(`'${type}' box before the init segment`);
      return;
    }
    switch (type) {
      case 'moof':
        if (this.moof) throw new Mp4FormatError('moof without mdat');
        this.moof = data;
        return;
      case 'mdat': {
        const moof = this.moof;
        if (!moof) throw new Mp4FormatError('mdat without moof');
        this.moof = null;
        this.fragment(moof, data);
        return;
      }
      case 'styp':
      case 'prft':
      case 'sidx':
        this.pending.push(data);
        return;
      default:
        // free, skip, mfra (trailer) and unknown boxes: not part of a media segment.
        return;
    }
  }

  private fragment(moof: Buffer, mdat: Buffer): void {
    const init = this.init!;
    const main = init.video ?? init.audio ?? init.tracks[0];
    if (!main) throw new Mp4FormatError('init segment without tracks');
    const trafs = parseMoof(moof, init);
    const traf = trafs.find((t) => t.trackId === main.trackId);
    this.pending.push(moof, mdat);
    if (!traf || traf.sampleCount === 0) {
      // No video in this fragment (e.g. the camera stalled while audio goes on): held for the next one, but never more
      // than MAX_HELD_FRAGMENTS; then sent as a part timed by its other tracks, not independent.
      this.heldSeconds += Math.max(0, ...trafs.map((t) => t.durationTicks / (init.tracks.find((k) => k.trackId === t.trackId)?.timescale ?? 1)));
      if (this.pending.length / 2 >= MAX_HELD_FRAGMENTS && this.pendingTicks === 0 && this.heldSeconds > 0) this.emit(this.heldSeconds, this.pendingIndependent ?? false, this.accumulatedSeconds, false);
      return;
    }
    if (this.pendingIndependent === null) {
      this.pendingIndependent = init.video ? traf.firstSampleSync === true : true;
      this.pendingDecodeSeconds = traf.baseDecodeTime === null ? null : traf.baseDecodeTime / main.timescale;
    }
    this.pendingTicks += traf.durationTicks;
    if (this.pendingTicks <= 0) return;
    this.emit(this.pendingTicks / main.timescale, this.pendingIndependent, this.pendingDecodeSeconds ?? this.accumulatedSeconds, true);
  }

  private emit(durationSeconds: number, independent: boolean, decodeSeconds: number, hasVideo: boolean): void {
    this.accumulatedSeconds = decodeSeconds + durationSeconds;
    this.packager.onPart(this.plan, this.run, {
      data: this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending),
      durationSeconds,
      independent,
      decodeSeconds,
      hasVideo,
    });
    this.pending = [];
    this.pendingTicks = 0;
    this.pendingIndependent = null;
    this.pendingDecodeSeconds = null;
    this.heldSeconds = 0;
  }
}

/** A part before its program date-time is set. */
interface RawPart {
  data: Buffer;
  durationSeconds: number;
  independent: boolean;
  /** Decode time of its first sample, seconds of the run's media time. */
  decodeSeconds: number;
  /** False for a part of held fragments without video samples (timed by its audio). */
  hasVideo: boolean;
}

/**
 * Runs and supervises the packaging ffmpeg of one channel. `ensureRunning()` is idempotent; see the module comment
 * for parts, keyframe fixing and restarts.
 */
export class LivePackager {
  private run: Run | null = null;
  private exited: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | null = null;
  private restarts = 0;
  private stopped = false;
  private mode: PackagerMode = 'passthrough';
  private modeReason: string | null = null;
  /** Holds one slot of {@link LivePackagerOptions.reencodeBudget} (while in re-encode mode). */
  private reencodeSlot = false;
  /** Media seconds of `source` since its last independent part (passthrough only). */
  private sinceKeyframe = 0;
  private partsSent = 0;
  private malformed = 0;
  private restartsTotal = 0;
  /** Frames dropped by finished runs. */
  private droppedFramesDone = 0;
  private lastRenditions: string[] = [];
  private readonly now: () => number;

  /** The input URL and its stream key now (replaced by {@link newPublisher} when the key changed). */
  private input: { inputUrl: string; secret: string };
  /** Stream keys used before (still redacted from ffmpeg output). */
  private readonly oldSecrets: string[] = [];

  /** The running ffmpeg's last progress block; null before the first and after it exits. */
  progress: PackagerProgress | null = null;

  constructor(private readonly o: LivePackagerOptions) {
    this.now = o.now ?? Date.now;
    this.input = { inputUrl: o.inputUrl, secret: o.secret };
  }

  private secrets(): string[] {
    return [this.input.secret, ...this.oldSecrets];
  }

  /** Restarts since the last reset. */
  get restartCount(): number {
    return this.restarts;
  }

  /** True while an ffmpeg process is alive. */
  get running(): boolean {
    return this.run !== null;
  }

  /** The running ffmpeg's process id (tests kill it to observe the restart); null when none runs. */
  get pid(): number | null {
    return this.run?.child.pid ?? null;
  }

  /** The packager's health (see {@link PackagerStatus}). */
  status(): PackagerStatus {
    return {
      running: this.running,
      restarts: this.restarts,
      progress: this.progress,
      mode: this.mode,
      modeReason: this.modeReason,
      renditions: [...this.lastRenditions],
      parts: this.partsSent,
      malformed: this.malformed,
      restartsTotal: this.restartsTotal,
      droppedFramesTotal: this.droppedFramesDone + (this.run?.dropFrames ?? 0),
    };
  }

  /** Starts ffmpeg unless it is running or a restart is already scheduled. */
  ensureRunning(): void {
    this.stopped = false;
    if (this.run || this.restartTimer) return;
    this.spawnOnce();
  }

  /**
   * A new publisher session (reconnect within the grace period): a fresh restart budget and passthrough again (the
   * streamer may have fixed the keyframe interval). A running ffmpeg is replaced at once: node-media-server would
   * feed it the new session's timestamps, which start again from 0 (non-monotonic DTS for the fMP4 muxer). The new
   * run sends a new init (a discontinuity in the same store channel).
   * @param input the new session's internal RTMP URL and stream key: a key rotated within the grace period publishes
   *   under another path, which the next runs read (the old key stays redacted from ffmpeg's output).
   */
  newPublisher(input?: { inputUrl: string; secret: string }): void {
    if (input && input.inputUrl !== this.input.inputUrl) {
      // The key was rotated within the grace period: the new session publishes under another path.
      if (!this.oldSecrets.includes(this.input.secret)) this.oldSecrets.push(this.input.secret);
      this.input = { ...input };
    }
    this.restarts = 0;
    this.releaseReencode();
    this.mode = 'passthrough';
    this.modeReason = null;
    this.respawnNow();
  }

  /**
   * The source changed (new resolution or frame rate learned after a reconnect): replaces the running ffmpeg at once
   * so the rendition plan and the descriptors follow it (a new init, a discontinuity).
   */
  sourceChanged(): void {
    this.respawnNow();
  }

  /** Replaces the running ffmpeg (if any) by a new run at once: no backoff, not counted as a failure. */
  private respawnNow(): void {
    const run = this.run;
    if (!run) return;
    this.run = null;
    this.progress = null;
    run.child.kill('SIGKILL');
    if (!this.stopped && this.o.shouldRun()) this.spawnOnce();
  }

  private spawnOnce(): void {
    if (this.mode === 'reencode' && !this.acquireReencode()) {
      this.mode = 'passthrough';
      this.modeReason = this.budgetReason();
    }
    const src = this.o.source();
    const plans = planRenditions(this.o.renditions, src.height, this.mode === 'reencode', src.videoKbps);
    const args = packagerArgs({ inputUrl: this.input.inputUrl, partSeconds: this.o.partSeconds, renditions: plans, keyframeSeconds: REENCODE_KEYFRAME_SECONDS });
    const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe', ...plans.map(() => 'pipe' as const)];
    const startedAt = this.now();
    const child = spawn(this.o.ffmpegPath, args, { stdio });
    const run: Run = { child, plans, anchor: null, failed: false, dropFrames: 0 };
    this.run = run;
    this.sinceKeyframe = 0;
    this.lastRenditions = plans.map((p) => p.name);
    plans.forEach((plan, i) => {
      const reader = new RenditionReader(this, run, plan);
      const pipe = child.stdio[renditionFd(i)] as Readable | null;
      pipe?.on('data', (chunk: Buffer) => {
        if (this.run !== run || run.failed) return;
        try {
          reader.push(chunk);
        } catch (err: unknown) {
          run.failed = true;
          this.malformed += 1;
          this.o.log.error({ rendition: plan.name, err: (err as Error).message }, 'packager output is not the expected fragmented MP4; restarting ffmpeg');
          child.kill('SIGKILL');
        }
      });
      pipe?.on('error', () => undefined);
    });
    let block: string[] = [];
    let partial = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        block.push(line);
        if (line.startsWith('progress=')) {
          const progress = parseProgressBlock(block, new Date(this.now()));
          if (progress.dropFrames !== null) run.dropFrames = progress.dropFrames;
          if (this.run === run) this.progress = progress;
          block = [];
        }
      }
    });
    packagerMetrics.started();
    this.o.log.info({ pid: child.pid, mode: this.mode, renditions: this.lastRenditions }, 'packager started');
    let tail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-2000);
    });
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        this.o.log.error({ err: redact(err.message, ...this.secrets()) }, 'packager failed to start');
      });
      child.once('close', (code, signal) => {
        const current = this.run === run;
        if (current) {
          this.run = null;
          this.progress = null;
        }
        this.droppedFramesDone += run.dropFrames;
        packagerMetrics.exited(code, signal);
        const stderr = redact(tail.trim(), ...this.secrets()).split('\n').slice(-5).join(' | ');
        this.o.log.info({ code, signal, stderr: stderr || undefined }, 'packager exited');
        if (this.now() - startedAt > STABLE_MS) this.restarts = 0;
        resolve();
        if (current) this.maybeRestart();
      });
    });
  }

  private maybeRestart(): void {
    if (this.stopped || !this.o.shouldRun() || this.restartTimer) return;
    if (this.restarts >= this.o.maxRestarts) {
      packagerMetrics.gaveUp();
      this.o.log.error({ restarts: this.restarts }, 'packager keeps failing; giving up until the publisher reconnects');
      return;
    }
    const delay = Math.min(8000, 500 * 2 ** this.restarts);
    this.restarts += 1;
    this.restartsTotal += 1;
    packagerMetrics.restarting();
    this.o.log.warn({ delayMs: delay, attempt: this.restarts }, 'restarting packager');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped && this.o.shouldRun() && !this.run) this.spawnOnce();
    }, delay);
  }

  /** @internal A rendition's init segment arrived. */
  onInit(plan: RenditionPlan, initSegment: Buffer, init: Mp4Init): void {
    const src = this.o.source();
    const audio = init.audio;
    if (audio?.configSampleRate && audio.configSampleRate !== audio.timescale) {
      this.o.log.error({ rendition: plan.name, timescale: audio.timescale, aacRate: audio.configSampleRate }, 'audio timescale differs from the AAC sampling rate (input probed too briefly?)');
    }
    const audioKbps = init.audio ? (src.audioKbps ?? AUDIO_KBPS_GUESS) : 0;
    const videoKbps = plan.videoKbps ?? src.videoKbps ?? 0;
    const descriptor: RenditionDescriptor = {
      name: plan.name,
      codecs: init.codecs,
      width: init.video?.width ?? null,
      height: init.video?.height ?? null,
      frameRate: src.frameRate,
      // Peak announced with 20 % headroom over the mean of a constrained (or the publisher's) bitrate.
      bandwidth: Math.round((videoKbps + audioKbps) * 1000 * 1.2) || 1_000_000,
      transcoded: plan.transcoded,
    };
    this.o.sink.rendition(plan.name).init(initSegment, descriptor);
  }

  /** @internal A rendition's part arrived. */
  onPart(plan: RenditionPlan, run: Run, part: RawPart): void {
    if (this.run !== run || run.failed) return;
    if (!run.anchor) run.anchor = { wallMs: this.now() - part.durationSeconds * 1000, mediaSeconds: part.decodeSeconds };
    const programDateTimeMs = Math.round(run.anchor.wallMs + (part.decodeSeconds - run.anchor.mediaSeconds) * 1000);
    this.o.sink.rendition(plan.name).part({ data: part.data, durationSeconds: part.durationSeconds, independent: part.independent, programDateTimeMs });
    this.partsSent += 1;
    if (plan.name === 'source' && this.mode === 'passthrough') this.watchKeyframes(part);
  }

  private watchKeyframes(part: RawPart): void {
    // Audio sent alone (video stalled) says nothing about the keyframe interval.
    if (!part.hasVideo) return;
    this.sinceKeyframe = part.independent ? part.durationSeconds : this.sinceKeyframe + part.durationSeconds;
    if (!this.o.keyframeFix || this.sinceKeyframe <= this.o.keyframeFixSeconds * KEYFRAME_TOLERANCE) return;
    if (!this.acquireReencode()) {
      if (this.modeReason === null) {
        this.modeReason = this.budgetReason();
        this.o.log.warn({ secondsWithoutKeyframe: this.sinceKeyframe, limit: this.o.reencodeBudget?.limit }, 'keyframe interval too long but the node re-encodes its maximum of channels (INGEST_MAX_REENCODES); staying in passthrough');
      }
      return;
    }
    this.mode = 'reencode';
    this.modeReason =
      `keyframe interval above ${this.o.keyframeFixSeconds} s (no keyframe for ${this.sinceKeyframe.toFixed(1)} s): the platform re-encodes the video ` +
      'with 1-s keyframes; set Keyframe Interval to 1 or 2 s in OBS (Settings → Output → Output Mode: Advanced → Streaming)';
    this.o.log.warn({ secondsWithoutKeyframe: this.sinceKeyframe }, 'keyframe interval too long; restarting the packager in re-encode mode');
    this.respawnNow();
  }

  /** Takes a re-encode slot unless one is held; false when the node's budget is used up. */
  private acquireReencode(): boolean {
    if (this.reencodeSlot) return true;
    this.reencodeSlot = this.o.reencodeBudget?.tryAcquire() ?? true;
    return this.reencodeSlot;
  }

  private releaseReencode(): void {
    if (this.reencodeSlot) this.o.reencodeBudget?.release();
    this.reencodeSlot = false;
  }

  /** {@link PackagerStatus.modeReason} of a channel that needs the keyframe fix but got no re-encode slot. */
  private budgetReason(): string {
    return (
      `keyframe interval above ${this.o.keyframeFixSeconds} s, but this ingest node already re-encodes its maximum of ` +
      `${this.o.reencodeBudget?.limit ?? 0} channels (INGEST_MAX_REENCODES): the video is passed through with long ` +
      'segments; set Keyframe Interval to 1 or 2 s in OBS (Settings → Output → Output Mode: Advanced → Streaming)'
    );
  }

  /**
   * Stops ffmpeg: SIGTERM, a second SIGTERM after 1 s, SIGKILL after 4 s. Resolves when it has exited. Idempotent.
   * Gives back a re-encode slot (a later {@link ensureRunning} in re-encode mode takes one again, or falls back).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.releaseReencode();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const run = this.run;
    if (!run) return this.exited;
    // ffmpeg's first SIGTERM only stops its main loop once the current read returns; a read blocked on the RTMP
    // socket (publisher gone) needs the second signal, which interrupts I/O. SIGKILL is the last resort.
    run.child.kill('SIGTERM');
    const again = setTimeout(() => run.child.kill('SIGTERM'), SECOND_TERM_MS);
    const killer = setTimeout(() => run.child.kill('SIGKILL'), KILL_AFTER_MS);
    await this.exited;
    clearTimeout(again);
    clearTimeout(killer);
  }

  /** Ends the broadcast for players: stops ffmpeg, then tells the store the channel ended (`EXT-X-ENDLIST`). */
  async finish(): Promise<void> {
    await this.stop();
    this.o.sink.end();
  }
}
