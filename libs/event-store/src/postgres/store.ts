/**
 * {@link PostgresEventStore}: the default adapter of the event store port, modelled on Emmett's PostgreSQL store
 * but with a serialised append instead of Emmett's xid8 snapshot filter (see {@link PostgresEventStore}).
 */
import pg from 'pg';
import type { NewEvent, RecordedEvent } from '@eventcast/events';
import type { AppendResult, EventStore, ExpectedRevision, ReadAllOptions, Subscription } from '../port.js';
import { prepareEvents } from '../prepare.js';
import { checkOnly } from './append.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import {
  copyJsonLines,
  headPosition,
  readAll,
  readAllJsonLines,
  readAllRaw,
  readStream,
  type CopyJsonLinesOptions,
  type JsonLineRow,
  type RawRecordedEvent,
} from './read.js';
import { guardPool, isStoreUnavailableError } from './pool.js';
import { migrate } from './schema.js';
import { PostgresSubscription, type PostgresSubscriptionOptions } from './subscription.js';

/** Connection and tuning of a {@link PostgresEventStore}. */
export interface PostgresEventStoreOptions {
  /** `postgres://…` URL; used for the pool (unless `pool` is given) and for each subscription's LISTEN client. */
  connectionString: string;
  /** Share an existing pool instead of creating one (it is then not ended by `close()`). */
  pool?: pg.Pool;
  /** Pool size when the store creates the pool (default 10). */
  maxConnections?: number;
  /** Subscription defaults: page size (default 2000) and poll fallback in ms (default 1000). */
  subscription?: Pick<PostgresSubscriptionOptions, 'batchSize' | 'pollIntervalMs'>;
  /** Group commit tuning (see `group-commit.ts`). */
  groupCommit?: GroupCommitOptions;
}

/**
 * Event store on PostgreSQL (schema `eventstore`, created by {@link PostgresEventStore.migrate}).
 *
 * Global positions are 1-based, gap-free and assigned in commit order. Appends are written by group commit
 * (`group-commit.ts`): appends that arrive while a transaction is in flight are written together by the next one,
 * each with its own expected-revision check and result. Each transaction:
 * 1. locks the single counter row `eventstore.global_position` (`SELECT … FOR UPDATE`);
 * 2. per append, in arrival order: advances the stream's row of `eventstore.streams` only if the expected revision
 *    holds (`no_stream` inserts the row, and the primary key makes a concurrent creator lose) and inserts its events
 *    at the next positions (unique `(stream_name, revision)` as a second guard), in one statement;
 * 3. moves the counter to the last position written and sends `pg_notify('eventcast_events', lastPosition)`,
 *    delivered on commit.
 * The counter row lock held until commit serialises writers (of every process): a later writer gets its numbers only
 * after the earlier one committed (so a reader never sees p+1 before p) or rolled back (its numbers are reused, so no
 * gaps). Why not a sequence: a sequence hands out numbers at insert time, so a transaction that commits late
 * publishes a number lower than ones readers already passed (they would skip it), and rollbacks leave gaps.
 * Emmett instead stores `pg_current_xact_id()` per row and lets readers take only rows whose transaction is older
 * than `pg_snapshot_xmin(pg_current_snapshot())` (STYLE.md); that allows parallel appends but its positions have gaps
 * and a long transaction stalls every reader. We chose the serialised counter: simple paging by position, gap-free
 * positions that double as checkpoints; group commit pays one commit per group instead of one per append.
 */
export class PostgresEventStore implements EventStore {
  /** The pool used for appends and reads (exposed for co-located checkpoint writes). */
  readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly subscriptions = new Set<PostgresSubscription>();
  private readonly groups: GroupCommit;

  constructor(private readonly options: PostgresEventStoreOptions) {
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
    // A client that loses its connection (idle in the pool or checked out by an append) must not crash the process:
    // see pool.ts. The failed query rejects with a transient error instead (isStoreUnavailableError).
    guardPool(this.pool);
    this.groups = new GroupCommit(this.pool, options.groupCommit);
  }

  /** Creates the schema when missing (idempotent, safe to run concurrently). See `schema.ts`. */
  migrate(): Promise<void> {
    return migrate(this.pool);
  }

  /**
   * Appends atomically, grouped with the appends that arrive meanwhile (one commit per group, see `group-commit.ts`).
   * Events are validated first (nothing is written if one is invalid); ids are generated with
   * `crypto.randomUUID()` when absent. An empty batch only checks `expected`.
   * @throws {WrongExpectedRevisionError} when `expected` does not hold (including a lost race).
   * @throws {DuplicateEventIdError} when an event's id is already stored (nothing written).
   * @throws {InvalidEventError} from the catalog. Other driver errors as is.
   */
  async append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const prepared = prepareEvents(events);
    if (prepared.length > 0) return this.groups.append(stream, prepared, expected);
    const client = await this.pool.connect();
    let broken = false;
    try {
      return await checkOnly(client, stream, expected);
    } catch (err) {
      broken = isStoreUnavailableError(err);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Reads a stream forward from revision `from` (default 0n); `[]` for a missing stream. */
  readStream(stream: string, options: { from?: bigint; limit?: number } = {}): Promise<RecordedEvent[]> {
    return readStream(this.pool, stream, options.from ?? 0n, options.limit);
  }

  /** Reads the global log; see `read.ts` for the filters (default limit 1000). */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return readAll(this.pool, options);
  }

  /**
   * Fast path for bulk export, outside the port: like {@link readAll} but the rows undecoded (payloads as JSON text,
   * positions as decimal text, the time as ISO-8601 text); see `read.ts` {@link RawRecordedEvent}.
   */
  readAllRaw(options?: ReadAllOptions): Promise<RawRecordedEvent[]> {
    return readAllRaw(this.pool, options);
  }

  /**
   * Fast path for JSON Lines export, outside the port: like {@link readAll} but each event rendered as its wire JSON
   * by PostgreSQL; see `read.ts` {@link JsonLineRow}.
   */
  readAllJsonLines(options?: ReadAllOptions, metadataPattern?: string): Promise<JsonLineRow[]> {
    return readAllJsonLines(this.pool, options, metadataPattern);
  }

  /**
   * Fastest JSON Lines export, outside the port: the events of a position range streamed as PostgreSQL-rendered
   * lines through COPY; see `read.ts` {@link copyJsonLines}. @returns the number of lines.
   */
  copyJsonLines(options: CopyJsonLinesOptions, sink: (chunk: Buffer) => Promise<void> | void): Promise<number> {
    return copyJsonLines(this.pool, options, sink);
  }

  /** The last committed global position, 0n when empty. */
  headPosition(): Promise<bigint> {
    return headPosition(this.pool);
  }

  /** Catch-up subscription after `options.after` (default 0n); see {@link PostgresSubscription}. */
  subscribeToAll(options: Omit<ReadAllOptions, 'limit'> = {}): Subscription {
    const sub = new PostgresSubscription(
      this.pool,
      { connectionString: this.options.connectionString },
      { ...this.options.subscription, ...options },
      (s) => this.subscriptions.delete(s),
    );
    this.subscriptions.add(sub);
    return sub;
  }

  /** Closes open subscriptions, then the pool when the store created it. */
  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    if (this.ownsPool) await this.pool.end();
  }
}
