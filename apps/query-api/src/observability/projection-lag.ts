/**
 * How far each projection is behind the event store (README, "Observability"): for every projection of the runner,
 * its checkpoint (`readmodels.projection_checkpoints`), the store's head (global position of the last committed
 * event), the lag in events (`head − checkpoint`, exact in the PostgreSQL store, whose positions are gap-free) and
 * in seconds (now − `occurredAt` of the first event not yet projected; 0 when caught up). Used by `/ready` and
 * by the `eventcast_projection_lag_*` metrics.
 */
import type { EventStore } from '@eventcast/event-store';
import type { ReadModelDb, EventLogReader } from '@eventcast/read-models';

/** Lag of one projection. Positions are global positions; `lagSeconds` is wall-clock seconds. */
export interface ProjectionLag {
  projection: string;
  checkpoint: bigint;
  head: bigint;
  lagEvents: bigint;
  lagSeconds: number;
}

/** The store as the probe reads it: the global log, and its head when the adapter tells it. */
export type LagStore = EventLogReader & Partial<Pick<EventStore, 'headPosition'>>;

/** Measures the lag of a fixed set of projections. */
export class ProjectionLagProbe {
  /**
   * @param db read-model database (checkpoints).
   * @param store global log; without `headPosition` the lag cannot be measured and {@link measure} returns null.
   * @param names projection (checkpoint) names to report; a projection without a checkpoint row counts as at 0.
   * @param now clock in ms (tests).
   */
  constructor(
    private readonly db: ReadModelDb,
    private readonly store: LagStore,
    readonly names: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * One measurement: a checkpoint query, a head query, and one one-event read per distinct lagging checkpoint.
   * @returns one entry per projection (sorted by name), or null when the store cannot report its head.
   * @throws database or store errors.
   */
  async measure(): Promise<ProjectionLag[] | null> {
    const headPosition = this.store.headPosition?.bind(this.store);
    if (!headPosition) return null;
    // Checkpoints first, then the head: a commit in between can only make the lag look larger, never negative.
    const rows = await this.db.selectFrom('projection_checkpoints').select(['name', 'position']).where('name', 'in', [...this.names]).execute();
    const head = await headPosition();
    const checkpoints = new Map(rows.map((r) => [r.name, BigInt(r.position)]));
    const oldestPending = new Map<bigint, number>();
    const out: ProjectionLag[] = [];
    for (const projection of [...this.names].sort()) {
      const checkpoint = checkpoints.get(projection) ?? 0n;
      const lagEvents = head > checkpoint ? head - checkpoint : 0n;
      let lagSeconds = 0;
      if (lagEvents > 0n) {
        let occurred = oldestPending.get(checkpoint);
        if (occurred === undefined) {
          const [next] = await this.store.readAll({ after: checkpoint, limit: 1 });
          occurred = next ? next.occurredAt.getTime() : this.now();
          oldestPending.set(checkpoint, occurred);
        }
        lagSeconds = Math.max(0, (this.now() - occurred) / 1000);
      }
      out.push({ projection, checkpoint, head, lagEvents, lagSeconds });
    }
    return out;
  }
}

/** Readiness thresholds: a projection further behind than either is "too far behind". 0 disables a threshold. */
export interface LagThresholds {
  /** `READINESS_MAX_LAG_EVENTS` (default 1000). */
  maxLagEvents: number;
  /** `READINESS_MAX_LAG_SECONDS` (default 60). */
  maxLagSeconds: number;
}

/** Default {@link LagThresholds}. */
export const DEFAULT_LAG_THRESHOLDS: LagThresholds = { maxLagEvents: 1000, maxLagSeconds: 60 };

/**
 * The reasons `lags` make the app not ready, one sentence per projection over a threshold (empty: ready).
 * A threshold of 0 is off.
 */
export function lagProblems(lags: readonly ProjectionLag[], t: LagThresholds): string[] {
  const problems: string[] = [];
  for (const l of lags) {
    const overEvents = t.maxLagEvents > 0 && l.lagEvents > BigInt(t.maxLagEvents);
    const overSeconds = t.maxLagSeconds > 0 && l.lagSeconds > t.maxLagSeconds;
    if (!overEvents && !overSeconds) continue;
    problems.push(
      `projection ${l.projection} is ${l.lagEvents} events (${l.lagSeconds.toFixed(1)} s) behind the event store head ${l.head} ` +
        `(checkpoint ${l.checkpoint}; limits ${t.maxLagEvents || '∞'} events, ${t.maxLagSeconds || '∞'} s)`,
    );
  }
  return problems;
}
