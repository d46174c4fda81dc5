/**
 * Test publishers with the wall clock burnt into the picture, and reading that clock back (tesseract OCR).
 *
 * The publisher is ffmpeg encoding `testsrc2` + a 48 kHz stereo tone in real time (`-re`), H.264 with x264 settings
 * close to OBS's (preset `veryfast`, CBR-like `-b:v = -maxrate`, no scene-cut keyframes so the GOP is exact) plus
 * `-tune zerolatency` (no B-frames, no lookahead: a frame leaves the encoder at once), AAC 160 kb/s, FLV over RTMP.
 * `setpts=RTCTIME/(TB*1000000)` makes each frame's time the wall clock when the frame is generated (µs since the
 * epoch), `drawtext` burns it in as an 8-digit millisecond counter (epoch ms mod 1e8), then `setpts=N/(fps*TB)`
 * renumbers the frames for the encoder (ffmpeg filter docs: setpts `RTCTIME`, drawtext `%{eif:…}`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnChild, type Child } from './common.js';

/** What the publisher sends. Sizes in pixels, rates in frames/s and kb/s, GOP in seconds. */
export interface EncodeSettings {
  width: number;
  height: number;
  fps: number;
  /** Keyframe interval in seconds (x264 `-g` = `-keyint_min` = fps × gopSeconds, `-sc_threshold 0`). */
  gopSeconds: number;
  videoKbps: number;
  /** x264 preset (OBS's default is `veryfast`). */
  preset: string;
}

/** The burnt-in clock's layout for a picture `height` pixels high: font size and margin, in pixels. */
export function clockLayout(height: number): { fontSize: number; margin: number } {
  return { fontSize: Math.round(height / 10), margin: Math.round(height / 45) };
}

/**
 * The part of the picture that holds the clock, as fractions of the picture's width and height (for a 16:9 picture;
 * 8 digits of `height / 10` pixels plus the box border and margin).
 */
export const CLOCK_CROP = { width: 0.36, height: 0.17 } as const;

/** ffmpeg `-vf` value that burns the wall clock into frames of `s` (see the module comment). */
export function clockFilter(s: Pick<EncodeSettings, 'height' | 'fps'>): string {
  const { fontSize, margin } = clockLayout(s.height);
  return [
    'setpts=RTCTIME/(TB*1000000)',
    `drawtext=text='%{eif\\:mod(t*1000\\,100000000)\\:d\\:8}':x=${margin}:y=${margin}:fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=black:boxborderw=${margin}`,
    `setpts=N/(${s.fps}*TB)`,
  ].join(',');
}

/** x264 + AAC output arguments for `s` (shared by live publishers and pre-encoded clips). */
export function encoderArgs(s: EncodeSettings): string[] {
  const gop = String(Math.round(s.fps * s.gopSeconds));
  return [
    '-c:v', 'libx264', '-preset', s.preset, '-tune', 'zerolatency', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
    '-b:v', `${s.videoKbps}k`, '-maxrate', `${s.videoKbps}k`, '-bufsize', `${s.videoKbps}k`,
    '-c:a', 'aac', '-b:a', '160k', '-ar', '48000', '-ac', '2',
  ];
}

/** Lavfi inputs of the test pattern and tone at `s`'s size and rate. */
function patternInputs(s: EncodeSettings): string[] {
  return ['-f', 'lavfi', '-i', `testsrc2=size=${s.width}x${s.height}:rate=${s.fps}`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000,aformat=channel_layouts=stereo'];
}

/** Publishes the test pattern with the live clock burnt in to `rtmpUrl` in real time until stopped. */
export function publishClock(rtmpUrl: string, s: EncodeSettings): Child {
  return spawnChild('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', ...patternInputs(s), '-vf', clockFilter(s), ...encoderArgs(s), '-f', 'flv', rtmpUrl]);
}

/**
 * Encodes `seconds` of the test pattern (no clock) with the publisher's settings into an FLV file, so many
 * publishers can later send it with `-c copy` for almost no CPU ({@link publishFile}).
 */
export async function encodeClip(file: string, s: EncodeSettings, seconds: number): Promise<void> {
  const c = spawnChild('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...patternInputs(s), '-t', String(seconds), ...encoderArgs(s), '-f', 'flv', file]);
  const code = await c.exited;
  if (code !== 0) throw new Error(`encoding the test clip failed (${code}): ${c.stderr()}`);
}

/** Publishes a pre-encoded FLV file in a loop, in real time, without re-encoding (`-re -stream_loop -1 -c copy`). */
export function publishFile(rtmpUrl: string, file: string): Child {
  return spawnChild('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', rtmpUrl]);
}

const run = promisify(execFile);

/**
 * Reads the 8-digit clock from each PNG (a crop of the clock, grey, enlarged) with one tesseract process for all of
 * them (`tesseract <list file> stdout` prints one page per image, pages separated by form feeds).
 * @returns the clock (epoch ms mod 1e8) per image, null where no 8 digits were read.
 */
export async function ocrClocks(pngs: readonly Buffer[]): Promise<(number | null)[]> {
  if (pngs.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'bench-ocr-'));
  try {
    const files = pngs.map((png, i) => {
      const f = join(dir, `${String(i).padStart(5, '0')}.png`);
      writeFileSync(f, png);
      return f;
    });
    const parse = (text: string) => {
      const m = /(\d{8})/.exec(text.replace(/\s/g, ''));
      return m?.[1] ? Number(m[1]) : null;
    };
    const args = ['--psm', '7', '-c', 'tessedit_char_whitelist=0123456789'];
    writeFileSync(join(dir, 'list.txt'), `${files.join('\n')}\n`);
    const { stdout } = await run('tesseract', [join(dir, 'list.txt'), 'stdout', ...args], { maxBuffer: 64 * 2 ** 20 });
    const pages = stdout.split('\f');
    if (pages.length >= files.length) return files.map((_f, i) => parse(pages[i] ?? ''));
    // Page separators not as expected: one process per image.
    const out: (number | null)[] = [];
    for (const f of files) {
      try {
        out.push(parse((await run('tesseract', [f, 'stdout', ...args])).stdout));
      } catch {
        out.push(null);
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Glass-to-glass delay (ms) of a frame showing clock `shown` (epoch ms mod 1e8) at wall time `atMs`; null when
 * implausible (negative or ≥ `maxMs`: an OCR misread — hls.js resyncs long before that far behind live).
 */
export function clockDelay(atMs: number, shown: number, maxMs = 20_000): number | null {
  const d = ((((atMs % 1e8) - shown) % 1e8) + 1e8) % 1e8;
  return d < maxMs ? d : null;
}
