/**
 * Applies events to projections exactly once: the read-model change and the checkpoint move happen in the
 * same PostgreSQL transaction, under a row lock on the checkpoint, so a redelivered or replayed event
 * (same global position) is skipped, even with several query-api processes running.
 */
import { sql, type Transaction } from 'kysely';
import { eventVersions, isEventType, validateRecorded, type RecordedDomainEvent, type RecordedEvent } from '@eventcast/events';
import type { ReadModelDb } from '../schema/database.js';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import { clearLiveFailure, recordLiveFailure } from './projection-status.js';
import type { BulkCopy, Projection } from './projection.js';

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

const NONE: readonly Projection[] = [];

/** Runs a fixed set of projections, each with its own checkpoint row, in one transaction per batch. */
export class ProjectionRunner {
  private readonly names: string[];
  private readonly handled: Map<Projection, ReadonlySet<string>>;
  /** Per event type, the projections handling it, in run order. */
  private readonly byType = new Map<string, Projection[]>();
  private committed = 0;
  private committedEvents = 0;
  private failureRecorded = false;

  /**
   * @param db read-model database.
   * @param projections projections to run; names must be unique.
   * @param options `recordStatus` (default true): record a failed `apply` in `readmodels.projection_status`
   *   (rebuilds into a build schema turn it off). `concurrent` (default false): run the projections of a batch
   *   concurrently on the transaction's connection (see {@link applyWithin}); rebuilds turn it on.
   *   `trustCurrentVersion` (default false): events already at their type's current schema version skip the
   *   catalog validation (they were validated on append; older versions are still upcast and validated);
   *   rebuilds from the store turn it on.
   *   `bulk` (default none): `COPY FROM STDIN` on the connection of `db`'s transactions, handed to the projections'
   *   `applyBatch` in the transactions of {@link apply} (never in {@link applyWithin}, whose transaction may be on
   *   another connection). Only for a `db` with ONE connection whose client the copier writes to (a rebuild's build
   *   connection, src/rebuild/build-connection.ts).
   * @throws {Error} on duplicate or missing projection names.
   */
  constructor(
    private readonly db: ReadModelDb,
    readonly projections: readonly Projection[],
    private readonly options: { recordStatus: boolean; concurrent?: boolean; trustCurrentVersion?: boolean; bulk?: BulkCopy } = { recordStatus: true },
  ) {
    this.names = projections.map((p) => p.name).sort();
    if (this.names.length === 0 || new Set(this.names).size !== this.names.length) {
      throw new Error('ProjectionRunner needs at least one projection and unique projection names');
    }
    this.handled = new Map(projections.map((p) => [p, new Set<string>(p.handles)]));
    for (const p of projections) for (const t of new Set<string>(p.handles)) this.byType.set(t, [...(this.byType.get(t) ?? []), p]);
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
   * With `concurrent`, a batch whose transaction fails with a database error is tried once more with the projections
   * one after the other: a statement that fails on purpose under a savepoint (a duplicate message id, see
   * chat-message-batch.ts) aborts the transaction for the statements other projections queued meanwhile.
   * @throws {InvalidEventError} (from @eventcast/events) when a handled event fails catalog validation;
   *   @throws database errors; in both cases nothing of the batch is applied.
   */
  async apply(events: readonly RecordedEvent[]): Promise<ApplyResult> {
    let result: ApplyResult;
    try {
      const concurrent = this.options.concurrent === true;
      try {
        result = await this.db.transaction().execute((trx) => this.applyIn(trx, events, this.options.bulk, concurrent));
      } catch (err) {
        if (!concurrent || typeof (err as { code?: unknown }).code !== 'string') throw err;
        result = await this.db.transaction().execute((trx) => this.applyIn(trx, events, this.options.bulk, false));
      }
    } catch (err) {
      await this.recordFailure(err);
      throw err;
    }
    if (this.failureRecorded) await this.clearFailure();
    this.committed++;
    this.committedEvents += events.length;
    return result;
  }

  /**
   * The body of {@link apply} inside a transaction the caller owns (and commits): the blue/green switch of a rebuild
   * (src/rebuild) applies the last events to the build tables in the same transaction that swaps them in. `trx`
   * must be bound to the same schema as this runner's `db`. Does not count in {@link stats}.
   * @throws as {@link apply}; the caller rolls back.
   */
  applyWithin(trx: Transaction<DB>, events: readonly RecordedEvent[]): Promise<ApplyResult> {
    return this.applyIn(trx, events, undefined, this.options.concurrent === true);
  }

  /** The body of {@link apply} and {@link applyWithin}: `bulk` for the projections, `concurrent` projections or not. */
  private async applyIn(trx: Transaction<DB>, events: readonly RecordedEvent[], bulk: BulkCopy | undefined, concurrent: boolean): Promise<ApplyResult> {
    const sorted = [...events].sort((a, b) => (a.globalPosition < b.globalPosition ? -1 : a.globalPosition > b.globalPosition ? 1 : 0));
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
    // Above every checkpoint (the usual case) each event goes to its type's handlers: no per-event filtering.
    const highest = [...positions.values()].reduce((m, v) => (v > m ? v : m), 0n);
    for (const event of sorted) {
      const all = event.globalPosition > highest;
      const due = all ? this.projections : this.projections.filter((p) => (positions.get(p.name) ?? 0n) < event.globalPosition);
      if (due.length === 0) {
        skipped++;
        continue;
      }
      const handlers = all ? (this.byType.get(event.type) ?? NONE) : due.filter((p) => this.handled.get(p)!.has(event.type));
      if (handlers.length > 0) {
        const valid: RecordedDomainEvent =
          this.options.trustCurrentVersion === true && isEventType(event.type) && event.version === eventVersions[event.type]
            ? (event as RecordedDomainEvent)
            : validateRecorded(event);
        for (const p of handlers) {
          const list = work.get(p);
          if (list) list.push(valid);
          else work.set(p, [valid]);
        }
        applied++;
      }
      if (!all) for (const p of due) positions.set(p.name, event.globalPosition);
    }
    if (sorted.length > 0) {
      const last = sorted[sorted.length - 1]!.globalPosition;
      if (last > highest) for (const p of this.projections) positions.set(p.name, last);
    }
    const run = async (p: Projection, list: readonly RecordedDomainEvent[]): Promise<void> => {
      if (p.applyBatch) await p.applyBatch(trx, list, bulk);
      else for (const e of list) await p.apply(trx, e);
    };
    if (concurrent) {
      // Each projection starts once the earlier projections writing a table it writes or reads have finished; the
      // others run concurrently: the connection queues their statements, so one projection prepares its next
      // statement while PostgreSQL executes another's. Every task settles before the transaction ends.
      const lastWriter = new Map<string, Promise<void>>();
      const tasks: Promise<void>[] = [];
      for (const p of this.projections) {
        const list = work.get(p);
        if (!list) continue;
        const deps = [...new Set([...p.tables, ...(p.reads ?? [])])].flatMap((t) => lastWriter.get(t) ?? []);
        const task = deps.length > 0 ? Promise.all(deps).then(() => run(p, list)) : run(p, list);
        for (const t of p.tables) lastWriter.set(t, task);
        tasks.push(task);
      }
      const failed = (await Promise.allSettled(tasks)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    } else {
      for (const p of this.projections) {
        const list = work.get(p);
        if (list) await run(p, list);
      }
    }
    const moved = [...positions].filter(([name, position]) => position !== start.get(name));
    if (moved.length > 0) {
      await sql`UPDATE ${sql.table(`${READMODELS_SCHEMA}.projection_checkpoints`)} AS c SET position = m.position, updated_at = now()
        FROM unnest(${moved.map(([n]) => n)}::text[], ${moved.map(([, p]) => p.toString())}::bigint[]) AS m(name, position)
        WHERE c.name = m.name`.execute(trx);
    }
    const low = [...positions.values()].reduce((m, v) => (v < m ? v : m));
    return { applied, skipped, position: low };
  }

  /**
   * Marks every projection of this runner failed in `readmodels.projection_status` (what `eventcast-ops projections
   * status` shows), outside the failed transaction. Best effort: a failing status write is ignored (the caller
   * rethrows the original error anyway).
   */
  private async recordFailure(err: unknown): Promise<void> {
    if (!this.options.recordStatus) return;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    try {
      await recordLiveFailure(this.db, this.names, message);
      this.failureRecorded = true;
    } catch {
      // The status table is informational; the error itself propagates to the caller.
    }
  }

  /** Clears the failure recorded by {@link recordFailure} after a successful commit. Best effort. */
  private async clearFailure(): Promise<void> {
    try {
      await clearLiveFailure(this.db, this.names);
      this.failureRecorded = false;
    } catch {
      // Retried after the next commit.
    }
  }
}
