/**
 * The projection contract: a named read-model writer that turns catalog events into row changes.
 * Projections never read the event store or NATS and never manage transactions or checkpoints: the
 * {@link ProjectionRunner} calls `apply` inside the transaction that also moves the checkpoint.
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';

/** A read-model projection. */
export interface Projection {
  /** Checkpoint name (row key of `readmodels.projection_checkpoints`); never rename a live projection. */
  readonly name: string;
  /**
   * The `readmodels` tables this projection writes (unqualified names, e.g. `['chat_messages']`). A blue/green
   * rebuild (src/rebuild) builds and swaps exactly these tables; projections that share a table are rebuilt together.
   * Every statement must name its tables through Kysely (`trx.insertInto('x')`, `sql.table('readmodels.x')`), never
   * as literal SQL text, so that a rebuild can redirect them to its build schema.
   */
  readonly tables: readonly string[];
  /**
   * Tables of OTHER projections this one reads while applying (e.g. the moderation log reads `chat_messages`).
   * A rebuild rebuilds the writers of these tables in the same build, so it never reads a live table at another
   * position. Default: none.
   */
  readonly reads?: readonly string[];
  /** Event types `apply` cares about; other events only move the checkpoint. */
  readonly handles: readonly EventType[];
  /**
   * Applies one validated event (current schema version) inside `trx`. Must be deterministic and depend only
   * on the event and the rows already written, so that a rebuild yields the same rows as the live run.
   * @throws to roll back the whole transaction (the event and the checkpoint stay unapplied).
   */
  apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void>;
  /**
   * Optional batch form of `apply`: the events of one runner transaction that this projection handles, in global
   * order (validated, each above this projection's checkpoint). Lets a projection fold many events into few
   * statements (e.g. one multi-row insert). Must leave the same rows as calling `apply` for each event in order.
   * When absent, the runner calls `apply` per event.
   * @throws to roll back the whole transaction.
   */
  applyBatch?(trx: Transaction<DB>, events: readonly RecordedDomainEvent[], bulk?: BulkCopy): Promise<void>;
  /**
   * Optional look-ahead of a rebuild (see {@link BuildLookahead}): events of some types known before the build
   * applies the log, so that rows can be written in their final state instead of being inserted and then updated.
   */
  readonly buildLookahead?: BuildLookahead;
}

/**
 * A rebuild's look-ahead for one projection. Before a build that starts from position 0 applies anything, the
 * rebuilder reads every event of `types` up to a position H (the head then; {@link BulkCopy.lookaheadUntil}) and
 * hands them to {@link store} in pages, in ONE transaction on the build schema that also records H; the build's
 * batches then receive H with their {@link BulkCopy}. The projection must leave the same rows as without it: what
 * its look-ahead stores only tells it, while writing a row, what events up to H will do to that row later.
 * H never changes for a build schema (a resumed build keeps it), so a row written in any run of the build was
 * written knowing every look-ahead event up to H; events after H take the ordinary path.
 */
export interface BuildLookahead {
  /** Event types to read ahead (current schema version, validated and upcast like every event the runner applies). */
  readonly types: readonly EventType[];
  /**
   * Creates the look-ahead tables (names through Kysely in `readmodels`, redirected to the build schema like every
   * statement of the build; they are dropped with it and never switched in) and stores `events`. Called once per
   * page, the first call with `first` true; all calls in one transaction.
   * @throws database errors (the transaction rolls back; the build does not start).
   */
  store(trx: Transaction<DB>, events: readonly RecordedDomainEvent[], first: boolean): Promise<void>;
}

/**
 * `COPY … FROM STDIN` into a read-model table on the connection of the current transaction (same transaction, in
 * statement order with the Kysely statements sent on it). Only a rebuild's dedicated build connection offers it (see
 * src/rebuild/build-connection.ts); projections receive it as the optional third argument of `applyBatch` and must
 * leave the same rows with or without it.
 */
export interface BulkCopy {
  /**
   * Appends rows to `table` (an unqualified read-model table name, e.g. `chat_messages`, redirected like every
   * statement of the runner) with `COPY <schema>.<table> (<columns>) FROM STDIN` in the text format.
   * @param columns column names, in the order of the fields of each line.
   * @param data COPY text format: one line per row ending in `\n`, fields separated by a tab, escaped with
   *   {@link copyField} (see https://www.postgresql.org/docs/current/sql-copy.html, "Text Format").
   * @returns the number of rows copied.
   * @throws the PostgreSQL error of the COPY (e.g. 23505 on a duplicate key); the transaction is then aborted
   *   (up to a savepoint of the caller).
   */
  copy(table: string, columns: readonly string[], data: string): Promise<number>;
  /**
   * The global position up to which the build's look-ahead holds every event of the projections' look-ahead types
   * (see {@link BuildLookahead}); undefined when this build has none (then every event takes the ordinary path).
   */
  readonly lookaheadUntil?: bigint;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One field of a COPY text-format line: `\N` for null, otherwise the value's text with backslash, tab, newline and
 * carriage return escaped (the characters the format reserves; PostgreSQL docs, COPY, "Text Format"). Other
 * characters, control characters included, pass as they are.
 */
export function copyField(value: string | number | bigint | null): string {
  if (value === null) return '\\N';
  const s = typeof value === 'string' ? value : String(value);
  return COPY_SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : s;
}
