/**
 * Helpers of the infra/ checks: where the repository is, running a validator (skipped with a reason when it is not
 * installed), reading env files, the metric names the apps define, and PromQL metric-name extraction.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (this file runs from tests/infra/dist/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Absolute path of `rel` under the repository root. */
export const repo = (...rel: string[]): string => join(ROOT, ...rel);

/** Text of a repository file. */
export const read = (...rel: string[]): string => readFileSync(repo(...rel), 'utf8');

/**
 * Absolute path of an executable: the first of `candidates` (names looked up on PATH, or absolute paths) that
 * exists, or null. Debian puts some daemons in /usr/sbin, which a non-root PATH may lack.
 */
export function which(...candidates: string[]): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const c of candidates) {
    if (c.startsWith('/')) {
      if (existsSync(c)) return c;
      continue;
    }
    for (const d of dirs) {
      const p = join(d, c);
      if (d && existsSync(p) && statSync(p).isFile()) return p;
    }
  }
  return null;
}

/** Exit status and output of one validator run. */
export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` to completion (60 s at most) with `env` on top of this process's environment. */
export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A fresh temporary directory (the caller removes it). */
export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `eventcast-infra-${prefix}-`));

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A long-running child process started by a test, with its output kept for failure messages. */
export interface Daemon {
  output(): string;
  stop(): Promise<void>;
}

/** Starts `cmd args` in the background; `stop()` sends SIGTERM and waits (SIGKILL after 5 s). */
export function daemon(cmd: string, args: string[], env: Record<string, string> = {}, cwd = ROOT): Daemon {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return {
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Polls `check` every 100 ms until it returns true; throws after `ms`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

/** `KEY=value` lines of an env file (comments, blank lines and commented-out assignments ignored). */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Variable names assigned in an env file, commented-out examples (`# NAME=value`) included. */
export function envFileNames(text: string): string[] {
  return [...text.matchAll(/^\s*#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
}

/** Every file under `dir` (relative to the root) whose name passes `keep`, skipping node_modules and dist. */
export function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'dist' || e.name === 'build' || e.name.startsWith('.')) continue;
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p);
      else if (keep(e.name)) out.push(p);
    }
  };
  walk(repo(dir));
  return out;
}

/** A metric the apps define: its name and whether it is a histogram (which adds `_bucket`, `_sum`, `_count`). */
export interface MetricDef {
  name: string;
  histogram: boolean;
}

/**
 * The metrics the apps export, read from their sources: every `name: 'eventcast_…'` in a prom-client metric
 * definition under apps/ and libs/ (tests excluded), and prom-client's default process and Node metrics
 * (`collectDefaultMetrics`, which every app's registry runs), from prom-client's own sources.
 * @returns sample names a query may use (histograms with their `_bucket`/`_sum`/`_count` series).
 */
export function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const sources = [...filesUnder('apps', (n) => /\.(ts|svelte)$/.test(n) && !n.includes('.test.')), ...filesUnder('libs', (n) => n.endsWith('.ts') && !n.includes('.test.'))];
  for (const f of sources) {
    const text = readFileSync(f, 'utf8');
    // `counter({ name: 'x', …` / `new Histogram({\n name: 'x', …`: take the object literal up to its closing `})`.
    for (const m of text.matchAll(/\b(counter|gauge|histogram|Counter|Gauge|Histogram)\(\{([^]*?)\}\)/g)) {
      const kind = m[1]!.toLowerCase();
      const name = /name:\s*'(eventcast_[a-z0-9_]+)'/.exec(m[2]!)?.[1];
      if (!name) continue;
      names.add(name);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    }
  }
  const promDir = repo('node_modules', 'prom-client', 'lib', 'metrics');
  for (const f of readdirSync(promDir).filter((n) => n.endsWith('.js'))) {
    const text = readFileSync(join(promDir, f), 'utf8');
    for (const m of text.matchAll(/'((?:nodejs|process)_[a-z0-9_]+)'/g)) {
      const name = m[1]!;
      names.add(name);
      // gc duration is a histogram
      for (const s of ['_bucket', '_sum', '_count']) if (name.endsWith('_seconds') && f === 'gc.js') names.add(name + s);
    }
  }
  names.add('up'); // Prometheus's own per-target series
  return names;
}

const PROMQL_WORDS = new Set([
  // aggregation operators and their modifiers
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool',
  // functions used in infra/
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'abs', 'clamp_min', 'clamp_max',
  'max_over_time', 'min_over_time', 'avg_over_time', 'sum_over_time', 'last_over_time', 'time', 'timestamp', 'vector',
  'scalar', 'label_replace', 'absent', 'changes', 'resets', 'round', 'sort', 'sort_desc',
]);

/**
 * The metric names a PromQL expression selects: identifiers left after removing string literals, label matchers
 * (`{…}`), grouping lists (`by (…)`), range/offset durations (`[…]`), numbers and PromQL's own words.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const ids = stripped.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? [];
  return [...new Set(ids.filter((id) => !PROMQL_WORDS.has(id) && !/^(e|inf|nan)$/i.test(id)))];
}

/** Exact-match label matchers `label="value"` of a PromQL expression (regex matchers left out). */
export function promqlExactMatchers(expr: string): { label: string; value: string }[] {
  return [...expr.matchAll(/([a-z_]+)\s*=\s*"([^"]*)"/g)].map((m) => ({ label: m[1]!, value: m[2]! }));
}
