/**
 * `readmodels.projection_status` for rebuilds, and the report behind `eventcast-ops projections status`.
 */
import { sql, type Kysely } from 'kysely';
import type { EventStore } from '@eventcast/event-store';
import type { ProjectionStatus } from '@eventcast/contracts';
import type { DB } from '../schema/schema.js';
import type { Projection } from '../projections/projection.js';

/** A `rebuilding` row whose progress is older than this belongs to a rebuild that died (it resumes when rerun). */
export const REBUILD_STALE_MS = 30_000;

/**
 * Records a rebuild's progress for `names` (`starting` also resets the start time and the error).
 * @throws database errors.
 */
export async function recordRebuildProgress(
  db: Kysely<DB>,
  names: readonly string[],
  p: { position: bigint; head: bigint; eventsPerSecond: number; starting: boolean },
): Promise<void> {
  const values = {
    rebuild_state: 'rebuilding' as const,
    rebuild_position: p.position,
    rebuild_head: p.head,
    rebuild_events_per_second: Math.round(p.eventsPerSecond),
    rebuild_updated_at: sql<Date>`now()`,
    ...(p.starting ? { rebuild_started_at: sql<Date>`now()`, rebuild_error: null } : {}),
  };
  await db
    .insertInto('projection_status')
    .values(names.map((name) => ({ name, ...values, rebuild_started_at: sql<Date>`now()` })))
    .onConflict((oc) => oc.column('name').doUpdateSet(values))
    .execute();
}

/** Records that the rebuild of `names` failed with `err`. @throws database errors. */
export async function recordRebuildFailure(db: Kysely<DB>, names: readonly string[], err: unknown): Promise<void> {
  const message = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 2000);
  await db
    .insertInto('projection_status')
    .values(names.map((name) => ({ name, rebuild_state: 'failed' as const, rebuild_error: message, rebuild_updated_at: sql<Date>`now()` })))
    .onConflict((oc) => oc.column('name').doUpdateSet({ rebuild_state: 'failed', rebuild_error: message, rebuild_updated_at: sql<Date>`now()` }))
    .execute();
}

/** Clears the rebuild columns of `names` (the switch committed). @throws database errors. */
export async function clearRebuildStatus(db: Kysely<DB>, names: readonly string[]): Promise<void> {
  await db
    .updateTable('projection_status')
    .set({ rebuild_state: null, rebuild_error: null, rebuild_position: null, rebuild_head: null, rebuild_events_per_second: null, rebuild_started_at: null, rebuild_updated_at: null })
    .where('name', 'in', names)
    .execute();
}

/**
 * One projection in the status report (`ProjectionStatus` of @eventcast/contracts, admin.ts: the shape of
 * `GET /admin/projections` and `eventcast-ops projections status --json`). Positions are decimal strings (JSON-safe).
 */
export type ProjectionStatusReport = ProjectionStatus;

/**
 * Status of every registered projection: checkpoint, head, lag in events and seconds, state.
 * @param db read-model database bound to `readmodels`.
 * @param store the event store (head and event times).
 * @param projections registered projections (`createProjections()`).
 * @throws database or store errors.
 */
export async function projectionStatus(
  db: Kysely<DB>,
  store: Pick<EventStore, 'readAll' | 'headPosition'>,
  projections: readonly Pick<Projection, 'name'>[],
): Promise<ProjectionStatusReport[]> {
  const names = projections.map((p) => p.name);
  const [head, checkpoints, status, now] = await Promise.all([
    store.headPosition(),
    db.selectFrom('projection_checkpoints').select(['name', 'position']).where('name', 'in', names).execute(),
    db.selectFrom('projection_status').selectAll().where('name', 'in', names).execute(),
    sql<{ now: Date }>`SELECT now() AS now`.execute(db),
  ]);
  const dbNow = now.rows[0]?.now.getTime() ?? Date.now();
  const times = new Map<bigint, number>();
  const timeOf = async (position: bigint): Promise<number | undefined> => {
    if (position <= 0n) return undefined;
    if (!times.has(position)) {
      const [e] = await store.readAll({ after: position - 1n, limit: 1 });
      if (e) times.set(position, e.occurredAt.getTime());
    }
    return times.get(position);
  };
  const headTime = await timeOf(head);
  const cp = new Map(checkpoints.map((r) => [r.name, BigInt(r.position)]));
  const st = new Map(status.map((r) => [r.name, r]));
  const out: ProjectionStatusReport[] = [];
  for (const name of names) {
    const checkpoint = cp.get(name);
    const lag = head - (checkpoint ?? 0n);
    let lagSeconds = 0;
    if (lag > 0n && headTime !== undefined) {
      const first = await timeOf(checkpoint !== undefined && checkpoint > 0n ? checkpoint : 1n);
      lagSeconds = first === undefined ? 0 : Math.max(0, (headTime - first) / 1000);
    }
    const s = st.get(name);
    let rebuild: ProjectionStatusReport['rebuild'] = null;
    if (s?.rebuild_state) {
      const stale = s.rebuild_state === 'rebuilding' && (s.rebuild_updated_at === null || dbNow - s.rebuild_updated_at.getTime() > REBUILD_STALE_MS);
      const position = s.rebuild_position === null ? null : BigInt(s.rebuild_position);
      const rHead = s.rebuild_head === null ? null : BigInt(s.rebuild_head);
      rebuild = {
        state: s.rebuild_state === 'failed' ? 'failed' : stale ? 'interrupted' : 'running',
        position: position?.toString() ?? null,
        head: rHead?.toString() ?? null,
        percent: position !== null && rHead !== null && rHead > 0n ? Math.min(100, Number((position * 10000n) / rHead) / 100) : null,
        eventsPerSecond: s.rebuild_events_per_second,
        startedAt: s.rebuild_started_at?.toISOString() ?? null,
        updatedAt: s.rebuild_updated_at?.toISOString() ?? null,
        error: s.rebuild_error,
      };
    }
    out.push({
      name,
      state: s?.live_error ? 'failed' : rebuild?.state === 'running' ? 'rebuilding' : 'running',
      error: s?.live_error ?? null,
      checkpoint: checkpoint?.toString() ?? null,
      head: head.toString(),
      lagEvents: (lag < 0n ? 0n : lag).toString(),
      lagSeconds,
      rebuild,
    });
  }
  return out;
}
