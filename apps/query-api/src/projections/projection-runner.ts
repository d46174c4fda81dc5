/**
 * Applies events to projections exactly once: the read-model change and the checkpoint move happen in the
 * same PostgreSQL transaction, under a row lock on the checkpoint, so a redelivered or replayed event
 * (same global position) is skipped, even with several query-api processes running.
 */
import { sql } from 'kysely';
import { validateRecorded, type RecordedDomainEvent, type RecordedEvent } from '@eventcast/events';
import type { ReadModelDb } from '../database/database.js';
import { READMODELS_SCHEMA } from '../database/schema.js';
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

/** Counters of {@link ProjectionRunner.apply} since construction (metrics, tests). */
export interface RunnerStats {
  /** Committed `apply` transactions (live batches and catch-up batches). */
  transactions: number;
  /** Events passed to those transactions (duplicates included). */
  events: number;
}

/** Runs a fixed set of projections, each with its own checkpoint row, in one transaction per batch. */
export class ProjectionRunner {
  private readonly names: string[];
  private readonly handled: Map<Projection, ReadonlySet<string>>;
  private committed = 0;
  private committedEvents = 0;

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
    this.handled = new Map(projections.map((p) => [p, new Set<string>(p.handles)]));
  }

  /** Committed transactions and their events so far (a snapshot). */
  get stats(): RunnerStats {
    return { transactions: this.committed, events: this.committedEvents };
  }

  /** Lowest checkpoint over all projections (0n when a projection has none yet): the position to resume after. */
  async position(): Promise<bigint> {
    const rows = await this.db.selectFrom('projection_checkpoints').select(['name', 'position']).where('name', 'in', this.names).execute();
    if (rows.length < this.names.length) return 0n;
    return rows.reduce((min, r) => (BigInt(r.position) < min ? BigInt(r.position) : min), BigInt(rows[0]?.position ?? 0));
  }

  /**
   * Applies `events` (any order; sorted by global position here) in ONE transaction:
   * locks every checkpoint row (`SELECT … FOR UPDATE`, in name order), collects for each projection the events
   * with a position above its checkpoint whose type it handles, then runs the projections one after the other in
   * constructor order (`applyBatch` with the whole list when the projection has it, else `apply` per event, in
   * global order), and writes the moved checkpoints in one statement. Projections write their own tables, so running them one after
   * the other is equivalent to interleaving them per event; a projection that reads another's rows (the moderation
   * log reads chat messages) must come after it in the constructor list.
   * Events that no projection handles are not validated and only move the checkpoints.
   * @returns counts and the lowest checkpoint after commit.
   * @throws {InvalidEventError} (from @eventcast/events) when a handled event fails catalog validation;
   *   @throws database errors; in both cases nothing of the batch is applied.
   */
  async apply(events: readonly RecordedEvent[]): Promise<ApplyResult> {
    const sorted = [...events].sort((a, b) => (a.globalPosition < b.globalPosition ? -1 : a.globalPosition > b.globalPosition ? 1 : 0));
    const result = await this.db.transaction().execute(async (trx) => {
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
      const work = new Map<Projection, RecordedDomainEvent[]>();
      let applied = 0;
      let skipped = 0;
      for (const event of sorted) {
        const due = this.projections.filter((p) => (positions.get(p.name) ?? 0n) < event.globalPosition);
        if (due.length === 0) {
          skipped++;
          continue;
        }
        const handlers = due.filter((p) => this.handled.get(p)!.has(event.type));
        if (handlers.length > 0) {
          const valid: RecordedDomainEvent = validateRecorded(event);
          for (const p of handlers) {
            const list = work.get(p);
            if (list) list.push(valid);
            else work.set(p, [valid]);
          }
          applied++;
        }
        for (const p of due) positions.set(p.name, event.globalPosition);
      }
      for (const p of this.projections) {
        const list = work.get(p);
        if (!list) continue;
        if (p.applyBatch) await p.applyBatch(trx, list);
        else for (const e of list) await p.apply(trx, e);
      }
      const moved = [...positions].filter(([name, position]) => position !== start.get(name));
      if (moved.length > 0) {
        await sql`UPDATE ${sql.table(`${READMODELS_SCHEMA}.projection_checkpoints`)} AS c SET position = m.position, updated_at = now()
          FROM unnest(${moved.map(([n]) => n)}::text[], ${moved.map(([, p]) => p.toString())}::bigint[]) AS m(name, position)
          WHERE c.name = m.name`.execute(trx);
      }
      const low = [...positions.values()].reduce((m, v) => (v < m ? v : m));
      return { applied, skipped, position: low };
    });
    this.committed++;
    this.committedEvents += events.length;
    return result;
  }
}
