/**
 * query-api's Prometheus metrics (README, "Observability"), read at scrape time from the running projector:
 * - `eventcast_projection_checkpoint{projection}`: last applied global position (its `rate()` is events/s projected);
 * - `eventcast_projection_lag_events{projection}` and `eventcast_projection_lag_seconds{projection}` (see
 *   ./projection-lag.ts); `eventcast_event_store_head_position`;
 * - `eventcast_projector_events_total` / `eventcast_projector_transactions_total`: events passed to committed
 *   projection transactions (live and catch-up, duplicates included) and those transactions;
 * - `eventcast_projector_jetstream_messages_total` / `eventcast_projector_jetstream_batches_total`: the live path;
 * - `eventcast_projector_leader`: 1 while this process holds the projector lock and applies events, 0 as a follower
 *   (projector-leadership.ts in @eventcast/read-models; over all query-api replicas its sum is 1).
 * HTTP request counts and latencies come from `httpMetricsMiddleware('query-api')`.
 */
import { counter, gauge, type Logger } from '@eventcast/platform';
import type { ProjectorStats } from '../messaging/jetstream-projector.js';
import type { ProjectorRole, RunnerStats } from '@eventcast/read-models';
import type { ProjectionLag } from './projection-lag.js';

/** What one running query-api contributes to a scrape. */
export interface ProjectorMetricsSource {
  runner: { readonly stats: RunnerStats };
  /** The live consumer's counters, once it exists. */
  projector(): { readonly stats: ProjectorStats } | undefined;
  /** This process's projector role. */
  role(): ProjectorRole;
  /** Current lags (null: the store cannot tell its head). */
  lag(): Promise<ProjectionLag[] | null>;
  logger: Logger;
}

const sources = new Set<ProjectorMetricsSource>();

const sum = (f: (s: ProjectorMetricsSource) => number): number => [...sources].reduce((n, s) => n + f(s), 0);

counter({
  name: 'eventcast_projector_events_total',
  help: 'Events passed to committed projection transactions (live batches and store catch-up; duplicates included).',
  collect() {
    this.reset();
    this.inc(sum((s) => s.runner.stats.events));
  },
});
counter({
  name: 'eventcast_projector_transactions_total',
  help: 'Committed projection transactions (each moves the checkpoints with the read-model change).',
  collect() {
    this.reset();
    this.inc(sum((s) => s.runner.stats.transactions));
  },
});
counter({
  name: 'eventcast_projector_jetstream_messages_total',
  help: 'JetStream messages taken into projection batches by the live consumer.',
  collect() {
    this.reset();
    this.inc(sum((s) => s.projector()?.stats.messages ?? 0));
  },
});
counter({
  name: 'eventcast_projector_jetstream_batches_total',
  help: 'Batches handled by the live JetStream consumer.',
  collect() {
    this.reset();
    this.inc(sum((s) => s.projector()?.stats.batches ?? 0));
  },
});

gauge({
  name: 'eventcast_projector_leader',
  help: '1 while this query-api holds the projector lock and applies the projections, 0 while it follows.',
  collect() {
    this.set(sum((s) => (s.role() === 'leader' ? 1 : 0)));
  },
});

/** One measurement of every source, shared by the four gauges of a scrape (each has its own `collect`). */
let latest: { at: number; lags: Promise<ProjectionLag[]> } | undefined;

function measure(): Promise<ProjectionLag[]> {
  const now = Date.now();
  if (latest && now - latest.at < 250) return latest.lags;
  const lags = (async () => {
    const all: ProjectionLag[] = [];
    for (const s of sources) {
      try {
        all.push(...((await s.lag()) ?? []));
      } catch (err) {
        s.logger.warn({ err }, 'projection lag unavailable for /metrics');
      }
    }
    return all;
  })();
  latest = { at: now, lags };
  return lags;
}

gauge({
  name: 'eventcast_projection_lag_events',
  help: 'Events in the store not yet applied by the projection (head − checkpoint).',
  labelNames: ['projection'],
  async collect() {
    const lags = await measure();
    this.reset();
    for (const l of lags) this.set({ projection: l.projection }, Number(l.lagEvents));
  },
});
gauge({
  name: 'eventcast_projection_lag_seconds',
  help: 'Age in seconds of the oldest event the projection has not applied yet (0 when caught up).',
  labelNames: ['projection'],
  async collect() {
    const lags = await measure();
    this.reset();
    for (const l of lags) this.set({ projection: l.projection }, l.lagSeconds);
  },
});
gauge({
  name: 'eventcast_projection_checkpoint',
  help: 'Last global position applied by the projection (rate() = events/s projected).',
  labelNames: ['projection'],
  async collect() {
    const lags = await measure();
    this.reset();
    for (const l of lags) this.set({ projection: l.projection }, Number(l.checkpoint));
  },
});
gauge({
  name: 'eventcast_event_store_head_position',
  help: 'Global position of the last committed event of the event store.',
  async collect() {
    const lags = await measure();
    this.reset();
    const top = lags.reduce<bigint | undefined>((m, l) => (m === undefined || l.head > m ? l.head : m), undefined);
    if (top !== undefined) this.set(Number(top));
  },
});

/**
 * Adds a running query-api to the scrape.
 * @returns the function that removes it (call on close).
 */
export function reportProjectorMetrics(source: ProjectorMetricsSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}
