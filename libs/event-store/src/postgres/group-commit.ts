/**
 * Group commit of the PostgreSQL store: appends that arrive while an append transaction is in flight wait, and the
 * next transaction writes all of them (up to {@link GroupCommitOptions.maxAppends}), one statement per append and ONE
 * commit for the group. Each append keeps its own expected-revision check and its own result.
 *
 * Why: every append takes the single counter row `eventstore.global_position` (gap-free positions in commit order), so
 * appends serialise on it and the store's throughput was one commit at a time — measured 407–483 appends/s with 50
 * concurrent appenders on this machine (bench/results/command-path.md). A group pays the commit (WAL flush) and the
 * transaction's fixed round trips once.
 *
 * The group's transaction:
 * 1. `BEGIN`; `SELECT value FROM eventstore.global_position FOR UPDATE`: the counter is locked first, so positions
 *    are still handed out in commit order and a rollback leaves no gap;
 * 2. per append, in arrival order, one statement (see {@link appendStatement}): a data-modifying CTE advances the
 *    stream's revision only if the expected revision holds, and the INSERT takes its rows from that CTE, so an append
 *    whose check fails inserts nothing and raises nothing — the transaction goes on with the next append, and that
 *    caller gets {@link WrongExpectedRevisionError} (the actual revision read in the same transaction);
 * 3. `UPDATE eventstore.global_position SET value = <last>` with the `pg_notify`, then `COMMIT`; every caller whose
 *    append was written is resolved only after the commit.
 * When a statement of the group fails (a duplicate event id, a value PostgreSQL refuses, a lost connection) the
 * transaction is rolled back and the group is split in two halves written one after the other (bisection), until the
 * failing append stands alone in a group of one: one caller's bad append never fails another's (ARCHITECTURE.md invariant 7), and each gets exactly the
 * error it would have got without grouping. A lone append takes the same path (a group of one), so every append of
 * every process locks the counter row before any stream row: one lock order, no deadlock between writers.
 * (Processes of an older version locked the stream row first; during a rolling upgrade a deadlock between the two
 * orders is possible — PostgreSQL aborts one of them with 40P01, an infrastructure error for that one append.)
 */
import type pg from 'pg';
import { categoryOf } from '@eventcast/events';
import { WrongExpectedRevisionError, type AppendResult, type ExpectedRevision } from '../port.js';
import type { PreparedEvent } from '../prepare.js';
import { duplicateIdError } from './append.js';
import { isStoreUnavailableError } from './pool.js';
import { NOTIFY_CHANNEL } from './schema.js';

/** Tuning of the group commit. */
export interface GroupCommitOptions {
  /** Most appends written by one transaction (default 256). */
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

/**
 * The advance-and-insert statement of one append of a group: `$1` stream, `$2` category, `$3` n, `$4` expected
 * revision (decimal text; unused for `any`/`no_stream`/`stream_exists`), `$5` global position before the first event,
 * `$6…$10` the events' ids, types, versions, data, metadata. Returns one row per inserted event with its revision (the
 * largest is the stream's new last revision), or no row when the expected revision does not hold.
 */
function appendStatement(expected: ExpectedRevision): string {
  const advance =
    expected === 'no_stream'
      ? `INSERT INTO eventstore.streams (stream_name, category, revision) VALUES ($1, $2, $3::bigint - 1)
         ON CONFLICT (stream_name) DO NOTHING RETURNING revision`
      : expected === 'any'
        ? `INSERT INTO eventstore.streams AS s (stream_name, category, revision) VALUES ($1, $2, $3::bigint - 1)
           ON CONFLICT (stream_name) DO UPDATE SET revision = s.revision + $3::bigint RETURNING revision`
        : expected === 'stream_exists'
          ? 'UPDATE eventstore.streams SET revision = revision + $3::bigint WHERE stream_name = $1 RETURNING revision'
          : `UPDATE eventstore.streams SET revision = revision + $3::bigint WHERE stream_name = $1 AND revision = ($4::text)::bigint
             RETURNING revision`;
  // `$4` must appear in every variant for a fixed parameter list: `$4::text IS NULL OR true` is a no-op use of it.
  return `WITH adv AS (${advance})
    INSERT INTO eventstore.events (global_position, id, stream_name, category, revision, type, version, data, metadata)
    SELECT $5::bigint + t.ord, t.id, $1, $2, adv.revision - $3::bigint + t.ord, t.type, t.version, t.data, t.metadata
    FROM adv, unnest($6::uuid[], $7::text[], $8::int[], $9::jsonb[], $10::jsonb[]) WITH ORDINALITY AS t(id, type, version, data, metadata, ord)
    WHERE ($4::text IS NULL OR true)
    RETURNING revision::text AS revision`;
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
   * Writes `group` in one transaction and settles every append in it, or throws (after a rollback, nothing settled)
   * when a statement failed.
   */
  private async writeGroup(group: QueuedAppend[]): Promise<void> {
    const client = await this.pool.connect();
    let broken = false;
    const outcomes: Array<{ ok: true; result: AppendResult } | { ok: false; error: unknown }> = [];
    try {
      await client.query('BEGIN');
      const head = await client.query<{ value: string }>('SELECT value::text AS value FROM eventstore.global_position FOR UPDATE');
      let position = BigInt(head.rows[0]?.value ?? '0');
      for (const a of group) {
        const n = a.events.length;
        const r = await client.query<{ revision: string }>(appendStatement(a.expected), [
          a.stream,
          categoryOf(a.stream),
          n,
          typeof a.expected === 'bigint' ? a.expected.toString() : null,
          position.toString(),
          a.events.map((e) => e.id),
          a.events.map((e) => e.type),
          a.events.map((e) => e.version),
          a.events.map((e) => JSON.stringify(e.data)),
          a.events.map((e) => JSON.stringify(e.metadata)),
        ]);
        const row = r.rows[0];
        if (!row) {
          const actual = await client.query<{ revision: string }>('SELECT revision::text AS revision FROM eventstore.streams WHERE stream_name = $1', [a.stream]);
          const rev = actual.rows[0]?.revision;
          outcomes.push({ ok: false, error: new WrongExpectedRevisionError(a.stream, a.expected, rev === undefined ? 'no_stream' : BigInt(rev)) });
          continue;
        }
        position += BigInt(n);
        const last = r.rows.reduce((m, x) => (BigInt(x.revision) > m ? BigInt(x.revision) : m), BigInt(row.revision));
        outcomes.push({ ok: true, result: { nextExpectedRevision: last, lastGlobalPosition: position } });
      }
      if (outcomes.some((o) => o.ok)) {
        await client.query(
          `WITH c AS (UPDATE eventstore.global_position SET value = $1::bigint RETURNING value) SELECT pg_notify($2, (SELECT value FROM c)::text)`,
          [position.toString(), NOTIFY_CHANNEL],
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      broken = isStoreUnavailableError(err);
      throw err;
    } finally {
      client.release(broken);
    }
    group.forEach((a, i) => {
      const o = outcomes[i];
      if (o?.ok) a.resolve(o.result);
      else a.reject(o?.error);
    });
  }
}
