/**
 * The event store port. Adapters: PostgreSQL (default, `postgres/`) and EventStoreDB (`eventstoredb/`), both run by
 * the same contract suite (`contract.ts`).
 */
import type { NewEvent, RecordedEvent } from '@eventcast/events';

/**
 * Expected revision for optimistic concurrency, as in EventStoreDB's append:
 * `'any'` (no check), `'no_stream'` (stream must not exist), `'stream_exists'`, or the exact revision (bigint,
 * 0-based) of the stream's last event.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/** Result of an append: the stream's new last revision and the global position of the last appended event. */
export interface AppendResult {
  nextExpectedRevision: bigint;
  lastGlobalPosition: bigint;
}

/** Options for reading the global log (`$all`). */
export interface ReadAllOptions {
  /** Read events with global position strictly greater than this (default 0n: from the start). */
  after?: bigint;
  /** Maximum events to return (default 1000). */
  limit?: number;
  /** Only these event types. */
  eventTypes?: readonly string[];
  /** Only streams of these categories (text before the first `-` of the stream name). */
  categories?: readonly string[];
}

/** A catch-up subscription: an async iterable of events, in global order, that ends when `close()` is called. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

/** The event store port. All methods reject with the errors below or with connection errors of the adapter. */
export interface EventStore {
  /**
   * Appends events atomically to one stream.
   * An event may carry its own `id` (a UUID); ids are unique in the store, so a caller that derives the id from
   * the command (e.g. from an idempotency key) makes a repeated append fail instead of storing the event twice.
   * @throws {WrongExpectedRevisionError} when the stream's revision does not match `expected`.
   * @throws {DuplicateEventIdError} when an event's id is already stored (nothing of the batch is written).
   * @throws {InvalidEventError} (from @eventcast/events) when an event fails catalog validation.
   */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Reads a stream forward from revision `from` (default 0). Empty array for a missing stream. */
  readStream(stream: string, options?: { from?: bigint; limit?: number }): Promise<RecordedEvent[]>;
  /** Reads the global log forward. Positions are gap-free and only committed events are ever returned. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** The global position of the last committed event (0n when empty). */
  headPosition(): Promise<bigint>;
  /** Catch-up subscription to `$all` after `after`, then live; filters as in {@link readAll}. */
  subscribeToAll(options?: Omit<ReadAllOptions, 'limit'>): Subscription;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Optimistic-concurrency failure: another writer appended first. Map to HTTP 409. */
export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`wrong expected revision on "${stream}": expected ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * An appended event's `id` is already in the store (or twice in the batch): nothing of the batch was written.
 * Callers that derive event ids from an idempotency key read it as "already done" (docs/design.md, "Idempotency").
 * `ids` lists the offending ids when the adapter can tell them (PostgreSQL: from the unique violation's detail).
 */
export class DuplicateEventIdError extends Error {
  constructor(
    readonly stream: string,
    readonly ids: readonly string[],
  ) {
    super(`duplicate event id on "${stream}": ${ids.length > 0 ? ids.join(', ') : 'an event id'} is already stored`);
    this.name = 'DuplicateEventIdError';
  }
}
