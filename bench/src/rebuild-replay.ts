/**
 * Rebuild and replay throughput on the PostgreSQL store (issue 4): generates `--events` (default 1,000,000) events
 * of a realistic chat-heavy mix (see `chatHeavyMix` in apps/ops/src/generate.ts: ~88 % ChatMessageSent, deletes,
 * refusals, timeouts, bans, follows, clears, settings, broadcasts, refused publishes, plus the accounts, usernames,
 * stream keys and channel info of every user) into a fresh database with multi-row inserts, then measures, each in
 * its own process (rebuild-replay/worker.ts):
 * 1. a blue/green rebuild of ALL projections from position 0 (events/s, peak RSS, RSS over the run);
 * 2. replay of the whole log to JSON Lines, to /dev/null and to a file (events/s, peak RSS).
 * Writes bench/results/rebuild-replay.md and .json with the machine and the commit. Targets: rebuild ≥ 50,000
 * events/s, replay ≥ 200,000 events/s, memory flat in the number of events.
 *
 * Usage: `npm run bench:rebuild -- [--events 1000000] [--channels 200] [--users 20000] [--runs 3] [--out NAME] [--keep] [--load-only]`
 * (`--runs`: rebuild runs; the median is reported and every run listed; `--out NAME`: results in bench/results/NAME.md
 * and .json, default `rebuild-replay`)
 * (`--load-only`: generate and keep the database, print its URL, measure nothing and write no results; then time single
 * runs with `node bench/dist/rebuild-replay/worker.js rebuild <url>`, env BENCH_BATCH, BENCH_PARALLEL=1, BENCH_PLAIN=1).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PostgresEventStore } from '@eventcast/event-store';
import { chatHeavyMix, loadEvents } from '@eventcast/ops';
import { createTestDatabase } from '@eventcast/platform';
import { codeVersion } from './code-version.js';
import { DEFAULT_REBUILD_BATCH } from '@eventcast/read-models';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('./rebuild-replay/worker.js', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    channels: { type: 'string', default: '200' },
    users: { type: 'string', default: '20000' },
    keep: { type: 'boolean', default: false },
    'load-only': { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    out: { type: 'string', default: 'rebuild-replay' },
  },
});
const N = Number(opts.events);
const CHANNELS = Number(opts.channels);
const USERS = Number(opts.users);
const RUNS = Number(opts.runs);
if (!/^[a-z0-9][a-z0-9-]*$/i.test(opts.out)) throw new Error('--out: a file name of letters, digits and dashes (written to bench/results/)');
if (![N, CHANNELS, USERS, RUNS].every((x) => Number.isInteger(x) && x > 0) || N > 5_000_000) throw new Error('--events (≤ 5,000,000), --channels, --users, --runs: positive integers');

const log = (m: string) => process.stderr.write(`[bench:rebuild] ${m}\n`);

/** Output of one worker run. */
interface WorkerResult {
  mode: string;
  events: number;
  head: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssKiB: number;
  samples: { position: number; rssMiB: number }[];
}

/**
 * Runs one measured worker after a `CHECKPOINT`: the dirty pages of what ran before (the load, the rebuild's tables)
 * are written out first, so the checkpointer flushing them does not compete with the run being measured.
 */
async function runWorker(pool: { query(text: string): Promise<unknown> }, args: string[]): Promise<WorkerResult> {
  await pool.query('CHECKPOINT');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`worker ${args[0]} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult);
    });
  });
}

/** RSS growth from the sample at a quarter of the run to the end, MiB (the "flat memory" check). */
function growthMiB(r: WorkerResult): number {
  const s = r.samples.filter((x) => x.position >= r.head * 0.25);
  if (s.length < 2) return 0;
  return Math.round((Math.max(...s.map((x) => x.rssMiB)) - s[0]!.rssMiB) * 10) / 10;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const load = loadavg();
  const version = codeVersion(ROOT);
  const code = { commit: version.commit, uncommittedOutsideBench: version.uncommittedOutsideBench.length };
  log(`machine: ${cpus().length} cores, load average ${load.map((x) => x.toFixed(2)).join(' ')}`);
  const db = await createTestDatabase('bench_rebuild');
  const store = new PostgresEventStore({ connectionString: db.url });
  const dir = mkdtempSync(join(tmpdir(), 'bench-rebuild-'));
  try {
    await store.migrate();
    // Bulk load: the two secondary indexes of the log are built once at the end (migrate() recreates them).
    await store.pool.query('DROP INDEX eventstore.events_category_position_idx, eventstore.events_type_position_idx');
    const t0 = performance.now();
    let loaded = 0;
    for (const batch of chatHeavyMix({ events: N, channels: CHANNELS, users: USERS, batchSize: 10_000 })) {
      await loadEvents(store.pool, batch);
      loaded += batch.length;
      if (loaded % 100_000 < batch.length) log(`generated ${fmt(loaded)} events`);
    }
    await store.migrate();
    await store.pool.query('VACUUM ANALYZE eventstore.events');
    const loadSeconds = (performance.now() - t0) / 1000;
    const mix = await store.pool.query<{ type: string; n: string }>('SELECT type, count(*)::text AS n FROM eventstore.events GROUP BY type ORDER BY count(*) DESC');
    const size = await store.pool.query<{ s: string }>("SELECT pg_size_pretty(pg_total_relation_size('eventstore.events')) AS s");
    log(`loaded ${fmt(loaded)} events in ${loadSeconds.toFixed(1)} s (${size.rows[0]?.s})`);
    if (opts['load-only']) {
      process.stdout.write(`${db.url}\n`);
      return;
    }

    // The rebuild runs --runs times (each from position 0, switching in a new read model); the median run is reported,
    // every run is listed: on a shared 2-core machine single runs vary by several percent.
    const rebuilds: WorkerResult[] = [];
    for (let i = 1; i <= RUNS; i++) {
      log(`rebuild --all (run ${i} of ${RUNS}) …`);
      const r = await runWorker(store.pool, ['rebuild', db.url]);
      log(`rebuild: ${fmt(r.eventsPerSecond)} events/s, peak RSS ${fmt(r.peakRssKiB / 1024)} MiB`);
      rebuilds.push(r);
    }
    const rebuild = [...rebuilds].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[Math.floor((RUNS - 1) / 2)]!;
    const rows = await store.pool.query<{ t: string; n: string }>(
      "SELECT relname AS t, n_live_tup::text AS n FROM pg_stat_user_tables WHERE schemaname = 'readmodels' AND n_live_tup > 0 ORDER BY n_live_tup DESC",
    );
    log('replay → /dev/null …');
    const replayNull = await runWorker(store.pool, ['replay', db.url, '/dev/null']);
    log(`replay: ${fmt(replayNull.eventsPerSecond)} events/s`);
    const file = join(dir, 'events.jsonl');
    log('replay → file …');
    const replayFile = await runWorker(store.pool, ['replay', db.url, file]);
    const fileBytes = statSync(file).size;
    log(`replay to file: ${fmt(replayFile.eventsPerSecond)} events/s, ${fmt(fileBytes / 2 ** 20)} MiB`);

    const targets = {
      rebuild: { target: 50_000, value: rebuild.eventsPerSecond, met: rebuild.eventsPerSecond >= 50_000 },
      replay: { target: 200_000, value: replayNull.eventsPerSecond, met: replayNull.eventsPerSecond >= 200_000 },
      flatMemory: {
        rebuildGrowthMiB: growthMiB(rebuild),
        replayGrowthMiB: growthMiB(replayNull),
        met: growthMiB(rebuild) <= 64 && growthMiB(replayNull) <= 64,
      },
    };
    const result = {
      benchmark: 'rebuild-replay',
      at: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release(), loadAverageAtStart: load.map((x) => Math.round(x * 100) / 100) },
      code,
      settings: { events: N, channels: CHANNELS, users: USERS, rebuildBatch: Number(process.env['BENCH_BATCH'] ?? DEFAULT_REBUILD_BATCH), replayPath: 'COPY of PostgreSQL-rendered lines, ranges of 20,000 positions, 3 in flight', checkpointBeforeEachRun: true },
      load: { events: loaded, seconds: loadSeconds, eventsPerSecond: Math.round(loaded / loadSeconds), tableSize: size.rows[0]?.s, mix: Object.fromEntries(mix.rows.map((r) => [r.type, Number(r.n)])) },
      rebuild: { ...rebuild, runs: rebuilds.map((r) => ({ seconds: r.seconds, eventsPerSecond: r.eventsPerSecond, peakRssKiB: r.peakRssKiB })), readModelRows: Object.fromEntries(rows.rows.map((r) => [r.t, Number(r.n)])) },
      replayToDevNull: replayNull,
      replayToFile: { ...replayFile, bytes: fileBytes },
      targets,
    };
    writeFileSync(join(ROOT, `bench/results/${opts.out}.json`), `${JSON.stringify(result, null, 2)}\n`);
    const samplesLine = (r: WorkerResult) =>
      r.samples
        .filter((_, i, a) => a.length <= 8 || i % Math.ceil(a.length / 8) === 0 || i === a.length - 1)
        .map((x) => `${fmt(x.position)}: ${x.rssMiB}`)
        .join(' · ');
    const md = `# Rebuild and replay — ${result.at}

Machine: ${result.machine.cpu} × ${result.machine.cores}, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}, Linux ${result.machine.kernel}; load average at start ${load.map((x) => x.toFixed(2)).join(' / ')}; PostgreSQL on the same machine (the 2 cores are shared with it and with other work).
Code: commit ${code.commit}${code.uncommittedOutsideBench ? ` plus ${code.uncommittedOutsideBench} uncommitted files outside bench/ (work in progress; the dist that ran includes it)` : ''}.
Settings: ${fmt(N)} generated events, ${CHANNELS} channels, ${fmt(USERS)} users; rebuild batch ${result.settings.rebuildBatch} events per transaction; replay through COPY (PostgreSQL renders each line; ranges of 20,000 positions, 3 in flight); a \`CHECKPOINT\` before each measured run.

## Data

Loaded ${fmt(loaded)} events in ${loadSeconds.toFixed(1)} s (${fmt(result.load.eventsPerSecond)} events/s, multi-row inserts of 10,000; event table ${size.rows[0]?.s}).
Mix: ${mix.rows.map((r) => `${r.type} ${fmt(Number(r.n))}`).join(', ')}.

## Results

| | events | seconds | **events/s** | peak RSS (MiB) | RSS growth after 25 % (MiB) |
|---|---:|---:|---:|---:|---:|
| rebuild of all projections (blue/green, from 0, switch included; ${RUNS === 1 ? "one run" : `median of ${RUNS} runs`}) | ${fmt(rebuild.events)} | ${rebuild.seconds.toFixed(1)} | **${fmt(rebuild.eventsPerSecond)}** | ${fmt(rebuild.peakRssKiB / 1024)} | ${growthMiB(rebuild)} |
| replay to JSON Lines → /dev/null | ${fmt(replayNull.events)} | ${replayNull.seconds.toFixed(1)} | **${fmt(replayNull.eventsPerSecond)}** | ${fmt(replayNull.peakRssKiB / 1024)} | ${growthMiB(replayNull)} |
| replay to JSON Lines → file (${fmt(fileBytes / 2 ** 20)} MiB) | ${fmt(replayFile.events)} | ${replayFile.seconds.toFixed(1)} | **${fmt(replayFile.eventsPerSecond)}** | ${fmt(replayFile.peakRssKiB / 1024)} | ${growthMiB(replayFile)} |

Rebuild runs: ${rebuilds.map((r) => `${fmt(r.eventsPerSecond)} events/s (${r.seconds.toFixed(1)} s, peak RSS ${fmt(r.peakRssKiB / 1024)} MiB)`).join(' · ')}.
Rebuild RSS over the median run (position: MiB): ${samplesLine(rebuild)}.
Replay RSS over the run (position: MiB): ${samplesLine(replayNull)}.
Read-model rows after the rebuild: ${rows.rows.map((r) => `${r.t} ${fmt(Number(r.n))}`).join(', ')}.

## Targets

- rebuild ≥ 50,000 events/s: ${fmt(rebuild.eventsPerSecond)} → **${targets.rebuild.met ? 'met' : 'not met'}**.
- replay ≥ 200,000 events/s (JSON Lines): ${fmt(replayNull.eventsPerSecond)} → **${targets.replay.met ? 'met' : 'not met'}**.
- memory flat in the number of events (RSS grows ≤ 64 MiB from a quarter of the run to its end): rebuild +${targets.flatMemory.rebuildGrowthMiB} MiB, replay +${targets.flatMemory.replayGrowthMiB} MiB → **${targets.flatMemory.met ? 'met' : 'not met'}**.
`;
    writeFileSync(join(ROOT, `bench/results/${opts.out}.md`), md);
    log(`wrote bench/results/${opts.out}.md and .json`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await store.close();
    if (opts.keep || opts['load-only']) log(`kept database ${db.url}`);
    else await db.drop();
  }
}

await main();
