/**
 * Test harness: free ports, the ingest as a child process (`dist/main.js`, real NMS, ffmpeg and NATS), a test
 * publisher (ffmpeg lavfi test pattern → RTMP) and raw HTTP requests (unnormalised paths, unlike fetch).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The ingest running as a child process; `output` collects stdout+stderr (JSON log lines). */
export interface IngestProcess {
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait; @returns the exit code. */
  stop(): Promise<number | null>;
}

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

/** Starts `node dist/main.js` with `env` added to the current environment. */
export function startIngestProcess(env: Record<string, string>): IngestProcess {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Result of a raw HTTP request. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Sends `method rawPath` verbatim (no URL normalisation) to 127.0.0.1:port. */
export function rawRequest(port: number, rawPath: string, method = 'GET', headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls `fn` every 100 ms until it returns a non-undefined value. @throws {Error} after `timeoutMs`. */
export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // keep polling
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A publishing ffmpeg; `exit` resolves with its exit code (or null when killed by a signal). */
export interface Publisher {
  child: ChildProcess;
  exit: Promise<number | null>;
  stderr: () => string;
}

/** Encoder settings of {@link publishTestStream}; without any, a 30 fps stream with a 1 s GOP at x264's default rate. */
export interface TestStreamOptions {
  /** Frames per second of the test pattern (default 30). */
  fps?: number;
  /** A keyframe exactly every this many frames (`-g N -keyint_min N -sc_threshold 0`); default `-g <fps>` only. */
  keyframeEvery?: number;
  /** Video bitrate in kbit/s, held near-constant (`-b:v`, `-maxrate` and `-bufsize` all `<N>k`). */
  videoKbps?: number;
  /** AAC bitrate in kbit/s (`-b:a <N>k`); default ffmpeg's. */
  audioKbps?: number;
  /** Picture size (default `640x360`). */
  size?: string;
  /** x264 preset (default `veryfast`). */
  preset?: string;
  /** Audio sample rate in Hz and channel count (default: the sine source's 44100 Hz mono). */
  audioRate?: number;
  audioChannels?: number;
}

/**
 * Publishes a 640x360 (or `size`) H.264 test pattern with a 1 kHz AAC tone to `url` for `seconds` (real time); see
 * {@link TestStreamOptions} for frame rate, GOP and bitrates.
 */
export function publishTestStream(url: string, seconds: number, opts: TestStreamOptions = {}): Publisher {
  const fps = opts.fps ?? 30;
  const gop = opts.keyframeEvery === undefined ? ['-g', String(fps)] : ['-g', String(opts.keyframeEvery), '-keyint_min', String(opts.keyframeEvery), '-sc_threshold', '0'];
  const kbps = (flag: string, n: number | undefined) => (n === undefined ? [] : [flag, `${n}k`]);
  const vbr = opts.videoKbps === undefined ? [] : [...kbps('-b:v', opts.videoKbps), ...kbps('-maxrate', opts.videoKbps), ...kbps('-bufsize', opts.videoKbps)];
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '640x360'}:rate=${fps}`,
    '-re', '-f', 'lavfi', '-i', `sine=frequency=1000${opts.audioRate === undefined ? '' : `:sample_rate=${opts.audioRate}`}`,
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', opts.preset ?? 'veryfast', '-tune', 'zerolatency', ...gop, ...vbr, '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', ...kbps('-b:a', opts.audioKbps), ...(opts.audioChannels === undefined ? [] : ['-ac', String(opts.audioChannels)]), '-f', 'flv', url,
  ];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => err };
}
