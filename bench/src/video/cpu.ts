/**
 * CPU of a process and of its descendants over a window, from /proc/<pid>/stat (proc(5)): utime + stime of each live
 * process; processes that start during the window count from their start. Children that end during the window (a
 * thumbnail ffmpeg lives a fraction of a second, between two scans) are counted through the parent's cutime + cstime,
 * which grow by a child's whole lifetime CPU when the parent reaps it (Node reaps its children): their share is
 * Δ(cutime + cstime) minus what those children had used before the window, under the label `<root> ended children`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { clockTicks, cpuSeconds } from '../fanout/proc.js';
import { round } from './common.js';

/** Parent pid of `pid` (/proc/<pid>/stat field 4); null when gone. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** CPU seconds of the reaped children of `pid` (cutime + cstime, /proc/<pid>/stat fields 16–17); NaN when gone. */
export function reapedChildrenCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / clockTicks();
  } catch {
    return NaN;
  }
}

/** Every live descendant of `root` (children, grandchildren, …). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    const ppid = parentOf(pid);
    if (ppid === null) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop() as number;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * What an ffmpeg child of the ingest does, from its arguments (never logged: they hold the internal RTMP URL with
 * the stream key): `transcode` (libx264), `thumbnail` (a picture output), else `packager` (copy).
 */
export function ffmpegRole(pid: number): 'packager' | 'transcode' | 'thumbnail' | 'other' {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!(args[0] ?? '').endsWith('ffmpeg')) return 'other';
    if (args.includes('libx264')) return 'transcode';
    if (args.some((a) => a === 'mjpeg' || a === 'image2' || a.endsWith('.jpg'))) return 'thumbnail';
    return 'packager';
  } catch {
    return 'other';
  }
}

/** CPU used over a window: seconds per role, and as % of one core. */
export interface CpuWindow {
  wallSeconds: number;
  /** CPU seconds by label (e.g. `ingest`, `ffmpeg packager`). */
  cpuSeconds: Record<string, number>;
  /** The same as % of one core (cpu s ÷ wall s × 100). */
  percentOfCore: Record<string, number>;
  /** Processes seen per label at the end of the window. */
  processes: Record<string, number>;
}

/**
 * Samples the CPU of `roots` (label → pid) and of their descendants (labelled `ffmpeg <role>` or `<label> child`)
 * at the start and end of `run()`, re-reading the descendant set every second so children started meanwhile count.
 */
export async function measureCpu(roots: Record<string, number>, run: () => Promise<void>): Promise<CpuWindow> {
  const start = new Map<number, number>();
  const last = new Map<number, number>();
  const label = new Map<number, string>();
  const rootOf = new Map<number, string>();
  const reapedStart = new Map<string, number>();
  for (const [name, pid] of Object.entries(roots)) reapedStart.set(name, reapedChildrenCpuSeconds(pid));
  const scan = (initial: boolean) => {
    for (const [name, pid] of Object.entries(roots)) {
      const all: [number, string][] = [[pid, name], ...descendants(pid).map((p): [number, string] => {
        const role = ffmpegRole(p);
        return [p, role === 'other' ? `${name} child` : `ffmpeg ${role}`];
      })];
      for (const [p, l] of all) {
        const s = cpuSeconds(p);
        if (Number.isNaN(s)) continue;
        if (!start.has(p)) start.set(p, initial ? s : 0);
        last.set(p, s);
        label.set(p, l);
        rootOf.set(p, name);
      }
    }
  };
  const t0 = performance.now();
  scan(true);
  const timer = setInterval(() => scan(false), 1000);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  scan(false);
  const wall = (performance.now() - t0) / 1000;
  const cpu: Record<string, number> = {};
  const procs: Record<string, number> = {};
  const endedBefore = new Map<string, number>();
  for (const [p, s0] of start) {
    const root = rootOf.get(p) ?? '';
    if (roots[root] !== p && Number.isNaN(cpuSeconds(p))) {
      // Ended during the window: counted below through the parent's cutime + cstime (its whole lifetime).
      endedBefore.set(root, (endedBefore.get(root) ?? 0) + s0);
      continue;
    }
    const l = label.get(p) ?? 'unknown';
    cpu[l] = (cpu[l] ?? 0) + ((last.get(p) ?? s0) - s0);
    procs[l] = (procs[l] ?? 0) + 1;
  }
  for (const [name, pid] of Object.entries(roots)) {
    const ended = reapedChildrenCpuSeconds(pid) - (reapedStart.get(name) ?? NaN) - (endedBefore.get(name) ?? 0);
    if (Number.isFinite(ended) && ended > 0) cpu[`${name} ended children`] = ended;
  }
  const pct: Record<string, number> = {};
  for (const [l, s] of Object.entries(cpu)) {
    cpu[l] = round(s, 2);
    pct[l] = round((100 * s) / wall, 2);
  }
  return { wallSeconds: round(wall, 1), cpuSeconds: cpu, percentOfCore: pct, processes: procs };
}

/** Sum of the % of a core over all labels of a window. */
export function totalPercent(w: CpuWindow): number {
  return round(Object.values(w.percentOfCore).reduce((a, b) => a + b, 0), 2);
}
