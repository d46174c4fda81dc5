/**
 * Process measurements from Linux /proc (CPU seconds, resident memory, finding processes) and small statistics
 * helpers for the chat fan-out benchmark.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** User and system CPU seconds of `pid` so far (/proc/<pid>/stat utime, stime); NaN when the process is gone. */
export function cpuTimes(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15
    return { user: Number(fields[11]) / clockTicks(), system: Number(fields[12]) / clockTicks() };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/** User + system CPU seconds of `pid` so far; NaN when the process is gone. */
export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/**
 * Machine-wide CPU seconds so far (first line of /proc/stat, all cores): `busy` = everything but idle and iowait,
 * `processes` = user + nice + system (time charged to tasks), `irq` = irq + softirq (interrupt work charged to no
 * task, e.g. loopback packet delivery when the kernel accounts IRQ time separately), `total`.
 */
export function machineCpu(): { busy: number; processes: number; irq: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const at = (i: number) => (v[i] ?? 0) / clockTicks();
  const total = v.reduce((a, b) => a + b, 0) / clockTicks();
  return { busy: total - at(3) - at(4), processes: at(0) + at(1) + at(2), irq: at(5) + at(6), total };
}

/**
 * Waits until the machine is quiet: the busy share of all cores, sampled over 2 s, is below `maxBusyPercent`.
 * Gives up after `timeoutSeconds`. @returns the last busy share seen (%).
 */
export async function waitForQuietMachine(maxBusyPercent: number, timeoutSeconds: number): Promise<number> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const a = machineCpu();
    await sleep(2000);
    const b = machineCpu();
    const busy = (100 * (b.busy - a.busy)) / (b.total - a.total || 1);
    if (busy < maxBusyPercent || Date.now() >= deadline) return Math.round(busy * 10) / 10;
  }
}

/** Resident set size of `pid` in KiB (VmRSS of /proc/<pid>/status); NaN when the process is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Pids of the processes whose command line (NUL-separated arguments joined with spaces) satisfies `pred`. */
export function findPids(pred: (cmdline: string, comm: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (pred(cmd, comm)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** The soft and hard limits on open files of this process (/proc/self/limits). */
export function openFileLimits(): { soft: number; hard: number } {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (s: string | undefined) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/** Summary statistics of a sample (ms or any unit), rounded to 0.01. */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `xs` (NaN fields when empty). */
export function summarize(xs: number[]): Summary {
  const s = Float64Array.from(xs).sort();
  const q = (p: number) => (s.length ? (s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN) : NaN);
  const r = (x: number) => Math.round(x * 100) / 100;
  let sum = 0;
  for (const x of s) sum += x;
  return { n: s.length, min: r(s[0] ?? NaN), p50: r(q(0.5)), p90: r(q(0.9)), p99: r(q(0.99)), max: r(s[s.length - 1] ?? NaN), mean: r(sum / (s.length || 1)) };
}

/** Wall-clock milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
