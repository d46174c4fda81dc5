/**
 * One measured run of the rebuild/replay benchmark, in its own process so its peak RSS is its own:
 * `node worker.js rebuild <databaseUrl>` rebuilds every projection (blue/green, from position 0, through
 * @eventcast/read-models' ProjectionRebuilder, as `eventcast-ops projections rebuild --all` does);
 * `node worker.js replay <databaseUrl> <file>` replays the whole log as JSON Lines (as `eventcast-ops replay --out`).
 * Prints one JSON line: events, seconds, events/s, peak RSS (KiB) and RSS samples over the run (memory flatness).
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { PostgresEventStore } from '@eventcast/event-store';
import { replay } from '@eventcast/ops';
import { createProjections, createReadModelDb, migrateReadModels, ProjectionRebuilder } from '@eventcast/read-models';

/** RSS sample: MiB at a global position. */
interface Sample {
  position: number;
  rssMiB: number;
}

const [mode, url, file] = process.argv.slice(2);
if ((mode !== 'rebuild' && mode !== 'replay') || !url) {
  process.stderr.write('usage: worker.js rebuild <databaseUrl> | replay <databaseUrl> <file>\n');
  process.exit(2);
}
const samples: Sample[] = [];
const sample = (position: bigint) => samples.push({ position: Number(position), rssMiB: Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10 });
const store = new PostgresEventStore({ connectionString: url });
const head = await store.headPosition();
const t0 = performance.now();
let events: number;
if (mode === 'rebuild') {
  const { root } = createReadModelDb(url, 10);
  await migrateReadModels(root);
  // BENCH_PLAIN=1: build batches on the shared pool with plain statements (no dedicated connection, no COPY), to compare.
  const rebuilder = new ProjectionRebuilder(root, store, createProjections(), process.env['BENCH_PLAIN'] === '1' ? {} : { databaseUrl: url });
  const result = await rebuilder.rebuild('all', {
    ...(process.env['BENCH_BATCH'] ? { batchSize: Number(process.env['BENCH_BATCH']) } : {}),
    // BENCH_PARALLEL=0 / 1: one build lane / two (default: the rebuilder's default, two lanes with its own connections).
    ...(process.env['BENCH_PARALLEL'] ? { parallel: process.env['BENCH_PARALLEL'] === '1' } : {}),
    onProgress: (p) => sample(p.position),
  });
  events = result.events;
  await root.destroy();
} else {
  const out = createWriteStream(file ?? '/dev/null');
  let lastSample = 0;
  const result = await replay(store, {
    format: 'jsonl',
    out,
    batchSize: 10_000,
    onProgress: (p) => {
      const now = performance.now();
      if (now - lastSample >= 250) {
        lastSample = now;
        sample(p);
      }
    },
  });
  out.end();
  await finished(out);
  events = result.written;
}
const seconds = (performance.now() - t0) / 1000;
sample(head);
await store.close();
process.stdout.write(
  `${JSON.stringify({ mode, events, head: Number(head), seconds, eventsPerSecond: Math.round(events / seconds), peakRssKiB: process.resourceUsage().maxRSS, samples })}\n`,
);
