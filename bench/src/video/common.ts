/**
 * Shared pieces of the video benchmarks (ll-hls latency, ingest CPU): percentiles, the machine they ran on, the
 * "is the machine quiet" guard, and child processes that are always cleaned up.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { findPids, machineCpu, sleep, waitForQuietMachine } from '../fanout/proc.js';

/** Nearest-rank summary of a sample (ms or s, rounded to 0.001): n, min, p50, p95, max, mean. NaN fields when empty. */
export interface Stats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `xs` (see {@link Stats}). */
export function stats(xs: readonly number[]): Stats {
  const s = Float64Array.from(xs).sort();
  const q = (p: number) => (s.length ? (s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN) : NaN);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  let sum = 0;
  for (const x of s) sum += x;
  return { n: s.length, min: r(s[0] ?? NaN), p50: r(q(0.5)), p95: r(q(0.95)), max: r(s[s.length - 1] ?? NaN), mean: r(sum / (s.length || 1)) };
}

/** The machine and tool versions a result was measured with. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  ffmpeg: string;
  chromium: string;
  tesseract: string;
  loadAverage1m: number;
}

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().split('\n')[0]?.trim() ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** CPU model, cores, memory, kernel, Node, ffmpeg, Chromium and tesseract versions, 1-min load average. */
export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    ffmpeg: firstLine('ffmpeg', ['-hide_banner', '-version']).replace(/ Copyright.*/, ''),
    chromium: firstLine(process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', ['--version']),
    tesseract: firstLine('tesseract', ['--version']),
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** How quiet the machine was before a measurement: busy share of all cores (%) and whether it met the threshold. */
export interface QuietCheck {
  busyPercent: number;
  thresholdPercent: number;
  quiet: boolean;
}

/**
 * Waits up to `waitSeconds` for the machine's busy share (all cores, sampled over 2 s, /proc/stat) to drop below
 * `belowPercent`. When it does not: throws if `refuse`, else prints a loud warning and returns `quiet: false` so the
 * results say the numbers are not for the record.
 * @throws {Error} when the machine stayed busy and `refuse` is set.
 */
export async function quietGuard(belowPercent: number, waitSeconds: number, refuse: boolean, log: (s: string) => void): Promise<QuietCheck> {
  const busy = await waitForQuietMachine(belowPercent, waitSeconds);
  const quiet = busy < belowPercent;
  if (!quiet) {
    const msg = `the machine is ${busy} % busy (threshold ${belowPercent} %, waited ${waitSeconds} s): other work is running, numbers from this run are NOT for the record`;
    if (refuse) throw new Error(`${msg}; refusing to start (--require-quiet)`);
    log(`\n${'!'.repeat(100)}\nWARNING: ${msg}\n${'!'.repeat(100)}\n`);
  }
  return { busyPercent: busy, thresholdPercent: belowPercent, quiet };
}

/** Busy share (%) of all cores between two {@link machineCpu} readings. */
export function busyBetween(a: ReturnType<typeof machineCpu>, b: ReturnType<typeof machineCpu>): number {
  return Math.round((1000 * (b.busy - a.busy)) / (b.total - a.total || 1)) / 10;
}

/** A child process with its last stderr, its exit, and a stop that escalates SIGINT → SIGKILL. */
export interface Child {
  child: ChildProcess;
  pid: number;
  /** `Date.now()` when it was spawned. */
  startedAt: number;
  exited: Promise<number | null>;
  stderr(): string;
  /** SIGINT (ffmpeg finishes its output), SIGKILL after `graceMs` (default 5000). */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHooked = false;

/** Spawns `cmd` and tracks it so an interrupted benchmark kills it on exit (SIGINT/SIGTERM to the benchmark). */
export function spawnChild(cmd: string, args: readonly string[], options: SpawnOptions = {}): Child {
  if (!exitHooked) {
    exitHooked = true;
    const killAll = () => {
      for (const c of live) c.kill('SIGKILL');
    };
    process.once('exit', killAll);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        killAll();
        process.exit(130);
      });
    }
  }
  const startedAt = Date.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  live.add(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      live.delete(child);
      r(code);
    }),
  );
  return {
    child,
    pid: child.pid ?? 0,
    startedAt,
    exited,
    stderr: () => err,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Polls `check` every `everyMs` until truthy; rejects naming `what` after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** A log line on stderr with the time of day and the benchmark's name. */
export function logger(name: string): (s: string) => void {
  return (s: string) => process.stderr.write(`[${name} ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

/** Rounds to `digits` decimals. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Refuses to start while another benchmark of this directory runs (a `node …dist/<benchmark>.js` process other than
 * this one and its children): two benchmarks at once measure each other.
 * @throws {Error} naming the other benchmark's pid.
 */
export function refuseIfAnotherBenchmark(): void {
  const re = /\bdist\/(chat-fanout|rebuild-replay|go-live-latency|latency|ingest-cpu|hls-origin|vod|command-path)\.js\b/;
  const others = findPids((cmd) => re.test(cmd)).filter((p) => p !== process.pid && p !== process.ppid);
  if (others.length > 0) throw new Error(`another benchmark is running (pid ${others.join(', ')}): run one at a time`);
}
