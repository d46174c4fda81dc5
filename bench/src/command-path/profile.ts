/**
 * A small summarizer of V8 `.cpuprofile` files (written by `node --cpu-prof`): self time per function and per
 * package, so a results file can say where a process spent its CPU without a profiler UI.
 */
import { readFileSync } from 'node:fs';

/** One row of a summary: self time in ms and its share of the profile's non-idle samples. */
export interface ProfileRow {
  name: string;
  selfMs: number;
  share: number;
}

/** Summary of one profile. */
export interface ProfileSummary {
  file: string;
  /** Non-idle sampled time, ms. */
  busyMs: number;
  functions: ProfileRow[];
  /** Self time by where the code lives: a package under node_modules, an app or lib of this repo, node: internals, GC. */
  packages: ProfileRow[];
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Where a script lives, as a short label (`pg`, `@nestjs/core`, `apps/command-api`, `libs/event-store`, `node:internal`). */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  const m = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

/**
 * Summarizes a `.cpuprofile`: the `top` functions by self time (name, file, line) and self time by package.
 * `(idle)` is left out of the shares; `(garbage collector)` and `(program)` stay in.
 * @throws when the file is not a V8 CPU profile.
 */
export function summarizeProfile(file: string, top = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i] ?? -1);
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    if (!cf || cf.functionName === '(idle)') continue;
    busy += dt;
    const short = cf.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(apps|libs)\//, '$1/');
    const key = `${cf.functionName || '(anonymous)'} ${short ? `${short}:${cf.lineNumber + 1}` : ''}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + dt);
    const pk = packageOf(cf.url, cf.functionName);
    pkgs.set(pk, (pkgs.get(pk) ?? 0) + dt);
  }
  const rows = (m: Map<string, number>, n: number): ProfileRow[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, selfMs: Math.round(ms), share: Math.round((ms / (busy || 1)) * 1000) / 1000 }));
  return { file, busyMs: Math.round(busy), functions: rows(fns, top), packages: rows(pkgs, 15) };
}
