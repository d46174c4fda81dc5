/**
 * Applies events to projections exactly once: the read-model change and the checkpoint move happen in the
 * same PostgreSQL transaction, under a row lock on the checkpoint, so a redelivered or replayed event
 * (same global position) is skipped, even with several query-api processes running.
 */
import { sql } from 'kysely';
import { isEventType, validateRecorded, type RecordedDomainEvent, type RecordedEvent } from '@eventcast/events';
import type { ReadModelDb } from '../database/database.js';
import type { Projection } from './projection.js';

/** Outcome of {@link ProjectionRunner.apply}. */
export interface ApplyResult {
  /** Events handed to at least one projection's `apply`. */
  applied: number;
  /** Events every projection had already passed (duplicates). */
  skipped: number;
  /** Lowest checkpoint of all projections after the commit. */
  position: bigint;
}

/** Runs a fixed set of projections, each with its own checkpoint row, in one transaction per batch. */
export class ProjectionRunner {
  private readonly names: string[];

  /**
   * @param db read-model database.
   * @param projections projections to run; names must be unique.
   * @throws {Error} on duplicate or missing projection names.
   */
  constructor(
    private readonly db: ReadModelDb,
    readonly projections: readonly Projection[],
  ) {
    this.names = projections.map((p) => p.name).sort();
    if (this.names.length === 0 || new Set(this.names).size !== this.names.length) {
      throw new Error('ProjectionRunner needs at least one projection and unique projection names');
    }
  }

  /** Lowest checkpoint over all projections (0n when a projection has none yet): the position to resume after. */
  async position(): Promise<bigint> {
    const rows = await this.db.selectFrom('projection_checkpoints').select(['name', 'position']).where('name', 'in', this.names).execute();
    if (rows.length < this.names.length) return 0n;
    return rows.reduce((min, r) => (BigInt(r.position) < min ? BigInt(r.position) : min), BigInt(rows[0]?.position ?? 0));
  }

  /**
   * Applies `events` (any order; sorted by global position here) in ONE transaction:
   * locks every checkpoint row (`SELECT … FOR UPDATE`, in name order), hands each event with a position above a
   * projection's checkpoint to that projection (when it handles the type), and writes the new checkpoints.
   * Events that no projection handles are not validated and only move the checkpoints.
   * @returns counts and the lowest checkpoint after commit.
   * @throws {InvalidEventError} (from @eventcast/events) when a handled event fails catalog validation;
   *   @throws database errors; in both cases nothing of the batch is applied.
   */
  async apply(events: readonly RecordedEvent[]): Promise<ApplyResult> {
    const sorted = [...events].sort((a, b) => (a.globalPosition < b.globalPosition ? -1 : a.globalPosition > b.globalPosition ? 1 : 0));
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('projection_checkpoints')
        .values(this.names.map((name) => ({ name, position: 0n })))
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const rows = await trx
        .selectFrom('projection_checkpoints')
        .select(['name', 'position'])
        .where('name', 'in', this.names)
        .orderBy('name')
        .forUpdate()
        .execute();
      const positions = new Map(rows.map((r) => [r.name, BigInt(r.position)]));
      const start = new Map(positions);
      let applied = 0;
      let skipped = 0;
      for (const event of sorted) {
        const due = this.projections.filter((p) => (positions.get(p.name) ?? 0n) < event.globalPosition);
        if (due.length === 0) {
          skipped++;
          continue;
        }
        const handlers = due.filter((p) => isEventType(event.type) && p.handles.includes(event.type));
        if (handlers.length > 0) {
          const valid: RecordedDomainEvent = validateRecorded(event);
          for (const p of handlers) await p.apply(trx, valid);
          applied++;
        }
        for (const p of due) positions.set(p.name, event.globalPosition);
      }
      for (const [name, position] of positions) {
        if (position === start.get(name)) continue;
        await trx
          .updateTable('projection_checkpoints')
          .set({ position, updated_at: sql<Date>`now()` })
          .where('name', '=', name)
          .execute();
      }
      const low = [...positions.values()].reduce((m, v) => (v < m ? v : m));
      return { applied, skipped, position: low };
    });
  }
}
