/**
 * Group commit of the PostgreSQL store: appends that arrive while an append transaction is in flight wait, and the
 * next transaction writes all of them (up to {@link GroupCommitOptions.maxAppends}) with ONE statement and ONE commit.
 * Each append keeps its own expected-revision check and its own result.
 *
 * Why: every append takes the single counter row `eventstore.global_position` (gap-free positions in commit order), so
 * appends serialise on it and the store's throughput was one commit at a time — 117 appends/s with 50 concurrent
 * appenders on one stream against 1,860/s grouped, back to back on a busy 2-core machine
 * (bench/results/command-path-quick.md). A group pays the commit (WAL flush) and the round trip once.
 *
 * The group is ONE statement, `SELECT … FROM eventstore.append_group(…)` (a PL/pgSQL function created by the
 * migration, schema.ts), in its own transaction — one round trip and one commit whatever the group's size (a first
 * version sent one statement per append inside BEGIN/COMMIT; on this loaded 2-core machine every round trip waits for
 * a core, and the group's round trips, not the commit, became the cost). The function:
 * 1. locks the counter row `eventstore.global_position` first (`FOR UPDATE`), so positions are still handed out in
 *    commit order and a rollback leaves no gap;
 * 2. per append, in arrival order: advances the stream's revision only if the expected revision holds and inserts
 *    its events at the next positions; an append whose check fails writes nothing and raises nothing — the function
 *    goes on with the next append, and that caller gets {@link WrongExpectedRevisionError} with the actual revision
 *    read in the same transaction;
 * 3. moves the counter to the last position written and sends the `pg_notify`. Every caller is settled only after
 *    the commit.
 * When a statement of the group fails (a duplicate event id, a value PostgreSQL refuses, a lost connection) the
 * transaction is rolled back and the group is split in two halves written one after the other (bisection), until the
 * failing append stands alone in a group of one: one caller's bad append never fails another's (ARCHITECTURE.md
 * invariant 7), and each gets exactly the error it would have got without grouping. A lone append takes the same path (a group of one), so every append of
 * every process locks the counter row before any stream row: one lock order, no deadlock between writers.
 * (Processes of an older version locked the stream row first; during a rolling upgrade a deadlock between the two
 * orders is possible — PostgreSQL aborts one of them with 40P01, an infrastructure error for that one append.)
 */
import type pg from 'pg';
import { categoryOf } from '@eventcast/events';
import { WrongExpectedRevisionError, type AppendResult, type ExpectedRevision } from '../port.js';
import type { PreparedEvent } from '../prepare.js';
import { duplicateIdError } from './append.js';

/** Tuning of the group commit. */
export interface GroupCommitOptions {
  /** Most appends written by one transaction (default 256; 1 writes every append alone, for comparisons). */
  maxAppends?: number;
}

/** One queued append and its caller. */
interface QueuedAppend {
  stream: string;
  events: readonly PreparedEvent[];
  expected: ExpectedRevision;
  resolve: (r: AppendResult) => void;
  reject: (err: unknown) => void;
}

/** Queue + single writer: at most one group transaction of this store in flight. */
export class GroupCommit {
  private queue: QueuedAppend[] = [];
  private running = false;
  private readonly maxAppends: number;

  constructor(
    private readonly pool: pg.Pool,
    options: GroupCommitOptions = {},
  ) {
    this.maxAppends = Math.max(1, options.maxAppends ?? 256);
  }

  /**
   * Appends `events` (already validated, at least one) to `stream` with the group that forms while the current one
   * is written. @returns the stream's new last revision and the last event's global position, after the commit.
   * @throws {WrongExpectedRevisionError} when `expected` does not hold; {@link DuplicateEventIdError} and driver errors
   *   as a lone append throws them.
   */
  append(stream: string, events: readonly PreparedEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ stream, events, expected, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Writes groups until the queue is empty. Never rejects. */
  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        await this.writeIsolating(this.queue.splice(0, this.maxAppends));
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Writes `group`; when its transaction fails, writes its two halves one after the other (bisection) until the
   * failing appends stand alone and get their error. Settles every append of `group`. Never rejects.
   */
  private async writeIsolating(group: QueuedAppend[]): Promise<void> {
    try {
      await this.writeGroup(group);
    } catch (err) {
      if (group.length === 1) return this.fail(group[0] as QueuedAppend, err);
      const mid = Math.ceil(group.length / 2);
      await this.writeIsolating(group.slice(0, mid));
      await this.writeIsolating(group.slice(mid));
    }
  }

  /** Rejects `a` with `err`, a unique violation on the event id as {@link DuplicateEventIdError}. */
  private fail(a: QueuedAppend, err: unknown): void {
    a.reject(duplicateIdError(err, a.stream, a.events) ?? err);
  }

  /**
   * Writes `group` with one call of `eventstore.append_group` (schema.ts) and settles every append in it, or throws
   * (the statement's transaction rolled back, nothing settled) when the statement failed.
   */
  private async writeGroup(group: QueuedAppend[]): Promise<void> {
    const events = group.flatMap((a) => a.events);
    // One statement in its own (implicit) transaction: one round trip and one commit for the whole group.
    const r = await this.pool.query<{ o_ok: boolean; o_revision: string | null; o_position: string | null; o_actual: string | null }>(
      `SELECT o_ok, o_revision::text AS o_revision, o_position::text AS o_position, o_actual::text AS o_actual
       FROM eventstore.append_group($1::text[], $2::text[], $3::int[], $4::text[], $5::uuid[], $6::text[], $7::int[], $8::jsonb[], $9::jsonb[])`,
      [
        group.map((a) => a.stream),
        group.map((a) => categoryOf(a.stream)),
        group.map((a) => a.events.length),
        group.map((a) => (typeof a.expected === 'bigint' ? a.expected.toString() : a.expected)),
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => e.version),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify(e.metadata)),
      ],
    );
    if (r.rows.length !== group.length) throw new Error(`append_group returned ${r.rows.length} rows for ${group.length} appends`);
    group.forEach((a, i) => {
      const row = r.rows[i];
      if (row?.o_ok && row.o_revision !== null && row.o_position !== null) {
        a.resolve({ nextExpectedRevision: BigInt(row.o_revision), lastGlobalPosition: BigInt(row.o_position) });
      } else {
        a.reject(new WrongExpectedRevisionError(a.stream, a.expected, row?.o_actual == null ? 'no_stream' : BigInt(row.o_actual)));
      }
    });
  }
}
