/**
 * HLS packaging of one channel: an ffmpeg process that plays the local RTMP stream and writes a live media playlist
 * (RFC 8216) plus MPEG-TS segments into `<mediaDir>/<username>/`.
 *
 * ffmpeg flags (ARCHITECTURE.md, "Facts found by running the stack", ffmpeg 5.1):
 * - `-rw_timeout 3000000`: NMS does not disconnect players when the publisher leaves; ffmpeg exits ~3 s later.
 * - `-c copy -f hls -hls_time <HLS_SEGMENT_SECONDS> -hls_list_size 6`: 1 s GOP in → 1 s segments out.
 * - `hls_flags delete_segments+independent_segments+program_date_time+temp_file+omit_endlist`: `temp_file` writes
 *   segments (and playlists) to `*.tmp` and renames them when complete, so the HTTP server never serves half a file;
 *   `omit_endlist` keeps players waiting while ffmpeg restarts or the publisher reconnects within the grace period —
 *   {@link HlsPackager.finish} appends `#EXT-X-ENDLIST` itself when the broadcast really ends.
 * - `-progress pipe:1 -stats_period 1`: ffmpeg's progress blocks (`frame`, `fps`, `bitrate`, `drop_frames`, `dup_frames`,
 *   `speed`, …, ending in `progress=continue|end`) once a second on stdout, kept as {@link HlsPackager.progress}
 *   for the admin health (`GET /admin/health`).
 * - `-hls_start_number_source epoch`: media sequence numbers (and segment names) keep growing across ffmpeg restarts,
 *   as RFC 8216 §6.2.1 requires of a live playlist; a restart adds `discont_start` (EXT-X-DISCONTINUITY).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@eventcast/platform';
import { packagerMetrics } from './metrics.js';
import { redact } from './redact.js';

/** Settings of one packager. */
export interface HlsPackagerOptions {
  ffmpegPath: string;
  /** Internal RTMP URL `rtmp://127.0.0.1:<port>/live/<key>`; contains the key: never logged. */
  inputUrl: string;
  /** The stream key, only to redact it from ffmpeg's output. */
  secret: string;
  /** Output directory `<MEDIA_DIR>/<username>`. */
  outDir: string;
  /** Target segment duration in seconds. */
  segmentSeconds: number;
  /** Restarts allowed while `shouldRun()` holds; the counter resets after a minute of stable running. */
  maxRestarts: number;
  /** Whether ffmpeg should be running now (publisher connected). Asked before each restart. */
  shouldRun: () => boolean;
  log: Logger;
}

/**
 * The packager ffmpeg's last complete `-progress` block (https://ffmpeg.org/ffmpeg.html#Advanced-options, `-progress`).
 * With `-c copy` ffmpeg neither drops nor duplicates frames, so `dropFrames`/`dupFrames` stay 0 unless a future
 * packager transcodes; `speed` below 1 means the packager falls behind real time.
 */
export interface PackagerProgress {
  /** Frames written so far by this ffmpeg process. */
  frames: number | null;
  fps: number | null;
  dropFrames: number | null;
  dupFrames: number | null;
  /** Processing speed relative to real time (1 = keeping up). */
  speed: number | null;
  /** Output time in seconds. */
  outTimeSeconds: number | null;
  /** When the block was read (ISO-8601). */
  at: string;
}

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

/** Builds the ffmpeg argument list (exported for tests and docs). `restart` adds a discontinuity at the start. */
export function ffmpegHlsArgs(inputUrl: string, outDir: string, segmentSeconds: number, restart: boolean): string[] {
  const flags = ['delete_segments', 'independent_segments', 'program_date_time', 'temp_file', 'omit_endlist'];
  if (restart) flags.push('discont_start');
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    // Machine-readable progress (key=value lines, one block per second) on stdout: see {@link PackagerProgress}.
    '-progress', 'pipe:1', '-stats_period', '1',
    '-rw_timeout', '3000000',
    '-i', inputUrl,
    '-map', '0:v?', '-map', '0:a?',
    '-c', 'copy',
    '-f', 'hls',
    '-hls_time', String(segmentSeconds),
    '-hls_list_size', '6',
    '-hls_flags', flags.join('+'),
    '-hls_start_number_source', 'epoch',
    '-hls_segment_type', 'mpegts',
    '-hls_segment_filename', path.join(outDir, 'seg%d.ts'),
    path.join(outDir, 'index.m3u8'),
  ];
}

const STABLE_MS = 60_000;
const SECOND_TERM_MS = 1000;
const KILL_AFTER_MS = 4000;

/**
 * Runs and supervises the ffmpeg of one channel. `ensureRunning()` is idempotent; an ffmpeg that exits while
 * `shouldRun()` is true is restarted with exponential backoff (0.5 s, 1 s, 2 s … ≤ 8 s), at most `maxRestarts` times.
 */
export class HlsPackager {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | null = null;
  private restarts = 0;
  private startedOnce = false;
  private stopped = false;

  constructor(private readonly o: HlsPackagerOptions) {}

  /** The running ffmpeg's last progress block; null before the first and after it exits. */
  progress: PackagerProgress | null = null;
  /** Restarts since the last reset (see {@link HlsPackager.resetRestarts}). */
  get restartCount(): number {
    return this.restarts;
  }

  /** True while an ffmpeg process is alive. */
  get running(): boolean {
    return this.child !== null;
  }

  /** Starts ffmpeg unless it is running or a restart is already scheduled. Creates the output directory. */
  async ensureRunning(): Promise<void> {
    this.stopped = false;
    if (this.child || this.restartTimer) return;
    await mkdir(this.o.outDir, { recursive: true });
    if (this.child || this.restartTimer || this.stopped) return;
    this.spawnOnce();
  }

  private spawnOnce(): void {
    const args = ffmpegHlsArgs(this.o.inputUrl, this.o.outDir, this.o.segmentSeconds, this.startedOnce);
    this.startedOnce = true;
    const startedAt = Date.now();
    const child = spawn(this.o.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let block: string[] = [];
    let partial = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        block.push(line);
        if (line.startsWith('progress=')) {
          if (this.child === child) this.progress = parseProgressBlock(block, new Date());
          block = [];
        }
      }
    });
    packagerMetrics.started();
    this.o.log.info({ pid: child.pid, outDir: this.o.outDir }, 'packager started');
    let tail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-2000);
    });
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        this.o.log.error({ err: redact(err.message, this.o.secret) }, 'packager failed to start');
      });
      child.once('close', (code, signal) => {
        if (this.child === child) {
          this.child = null;
          this.progress = null;
        }
        packagerMetrics.exited(code, signal);
        const stderr = redact(tail.trim(), this.o.secret).split('\n').slice(-5).join(' | ');
        this.o.log.info({ code, signal, stderr: stderr || undefined }, 'packager exited');
        if (Date.now() - startedAt > STABLE_MS) this.restarts = 0;
        resolve();
        this.maybeRestart();
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
    packagerMetrics.restarting();
    this.o.log.warn({ delayMs: delay, attempt: this.restarts }, 'restarting packager');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped && this.o.shouldRun() && !this.child) this.spawnOnce();
    }, delay);
  }

  /** Forgets earlier failures (a new publisher connection gets a fresh restart budget). */
  resetRestarts(): void {
    this.restarts = 0;
  }

  /** Stops ffmpeg: SIGTERM, a second SIGTERM after 1 s, SIGKILL after 4 s. Resolves when the process has exited. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child) return this.exited;
    // ffmpeg's first SIGTERM only stops its main loop once the current read returns; a read blocked on the RTMP
    // socket (publisher gone) needs the second signal, which interrupts I/O. The trailer (last segment, final
    // playlist) is still written in both cases. SIGKILL is the last resort.
    child.kill('SIGTERM');
    const again = setTimeout(() => child.kill('SIGTERM'), SECOND_TERM_MS);
    const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    await this.exited;
    clearTimeout(again);
    clearTimeout(killer);
  }

  /**
   * Ends the broadcast for players: stops ffmpeg and appends `#EXT-X-ENDLIST` to the playlist (written to a temp file
   * and renamed, so readers see either version whole). A missing playlist is not an error.
   */
  async finish(): Promise<void> {
    await this.stop();
    const file = path.join(this.o.outDir, 'index.m3u8');
    try {
      const text = await readFile(file, 'utf8');
      if (text.includes('#EXT-X-ENDLIST')) return;
      const tmp = `${file}.end.tmp`;
      await writeFile(tmp, `${text.endsWith('\n') ? text : `${text}\n`}#EXT-X-ENDLIST\n`);
      await rename(tmp, file);
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.o.log.warn({ err: (err as Error).message }, 'could not end playlist');
    }
  }
}
