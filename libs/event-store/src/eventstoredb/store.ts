/**
 * {@link EventStoreDbEventStore}: the EventStoreDB adapter of the event store port (@eventstore/db-client v6).
 */
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { NewEvent, RecordedEvent } from '@eventcast/events';
import { DuplicateEventIdError, WrongExpectedRevisionError, type AppendResult, type EventStore, type ExpectedRevision, type ReadAllOptions, type Subscription } from '../port.js';
import { prepareEvents } from '../prepare.js';
import { fromEsdb, isSystem, matches, toEsdbExpected, toEventData, toPosition } from './mapping.js';
import { EventStoreDbSubscription } from './subscription.js';

/** How many of a stream's last events the EventStoreDB adapter searches for a repeated event id. */
export const ID_CHECK_WINDOW = 1000;

/**
 * Event store on EventStoreDB. Streams, revisions and optimistic concurrency map one to one.
 *
 * Global positions differ from the PostgreSQL store: this adapter exposes each event's **commit position** in the
 * transaction log (`position.commit`) as `globalPosition`, and `after` in readAll/subscribeToAll means "commit
 * position greater than". Commit positions are byte offsets: strictly increasing along `$all` but **not gap-free**
 * and not 1-based, so they are fine as checkpoints but must not be used to count events. If the server ever reports
 * one commit position for several events of one append, `after` cannot split them (resume after the whole append).
 * System events (`$`-prefixed types or streams) are never returned.
 */
export class EventStoreDbEventStore implements EventStore {
  /** The underlying client (for callers needing EventStoreDB-specific calls). */
  readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<EventStoreDbSubscription>();

  /** @param connectionString `esdb://host:2113?tls=false` and the like (EVENTSTORE_URL). */
  constructor(connectionString: string) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  /**
   * Appends atomically after catalog validation (nothing sent if an event is invalid). `lastGlobalPosition` is the
   * commit position of the append (0n when the server does not report it).
   *
   * Event ids: EventStoreDB has no index by event id and treats a repeated append of the same ids at the same
   * expected revision as an idempotent success (its own de-duplication). To keep the port's contract, events given
   * an `id` are checked first against the batch and the stream's last {@link ID_CHECK_WINDOW} events; a repeat is
   * refused with DuplicateEventIdError. Two appends racing with the same id still store it once (the server's
   * idempotent write), but the loser may then get a success instead of the error.
   * @throws {WrongExpectedRevisionError} mapped from the client's WrongExpectedVersionError.
   * @throws {DuplicateEventIdError} an event id is repeated in the batch or found among the stream's recent events.
   * @throws {InvalidEventError} from the catalog.
   */
  async append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const prepared = prepareEvents(events);
    const given = events.flatMap((e) => (e.id === undefined ? [] : [e.id.toLowerCase()]));
    if (given.length > 0) await this.refuseKnownIds(stream, given);
    try {
      const r = await this.client.appendToStream(stream, prepared.map(toEventData), { expectedRevision: toEsdbExpected(expected) });
      return { nextExpectedRevision: r.nextExpectedRevision, lastGlobalPosition: r.position?.commit ?? 0n };
    } catch (err) {
      if (err instanceof WrongExpectedVersionError) throw new WrongExpectedRevisionError(stream, expected, err.actualVersion);
      throw err;
    }
  }

  /**
   * Throws {@link DuplicateEventIdError} when `ids` repeat one another or one is among the stream's last
   * {@link ID_CHECK_WINDOW} events (read backwards from the end; a missing stream has none).
   */
  private async refuseKnownIds(stream: string, ids: readonly string[]): Promise<void> {
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (repeated.length > 0) throw new DuplicateEventIdError(stream, repeated);
    const wanted = new Set(ids);
    const found: string[] = [];
    try {
      for await (const resolved of this.client.readStream(stream, { fromRevision: END, direction: BACKWARDS, maxCount: ID_CHECK_WINDOW })) {
        const id = resolved.event?.id.toLowerCase();
        if (id !== undefined && wanted.has(id)) found.push(id);
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) return;
      throw err;
    }
    if (found.length > 0) throw new DuplicateEventIdError(stream, found);
  }

  /** Reads a stream forward from `from` (default 0n); `[]` when the stream does not exist. */
  async readStream(stream: string, options: { from?: bigint; limit?: number } = {}): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(stream, {
        fromRevision: options.from ?? START,
        direction: FORWARDS,
        ...(options.limit !== undefined ? { maxCount: options.limit } : {}),
      });
      for await (const resolved of read) if (resolved.event) out.push(fromEsdb(resolved.event));
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
    return out;
  }

  /** Reads `$all` forward after commit position `after`, skipping system events, filtering client-side. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? 0n;
    const limit = options.limit ?? 1000;
    const out: RecordedEvent[] = [];
    const read = this.client.readAll({ fromPosition: after > 0n ? toPosition(after) : START, direction: FORWARDS });
    for await (const resolved of read) {
      const raw = resolved.event;
      if (!raw || isSystem(raw)) continue;
      const event = fromEsdb(raw);
      if (event.globalPosition <= after || !matches(event, options)) continue;
      out.push(event);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Commit position of the newest non-system event in `$all` (read backwards from the end), 0n when none. */
  async headPosition(): Promise<bigint> {
    const read = this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 4096 });
    for await (const resolved of read) {
      if (resolved.event && !isSystem(resolved.event)) return resolved.event.position.commit;
    }
    return 0n;
  }

  /** Catch-up subscription after commit position `after`; see {@link EventStoreDbSubscription}. */
  subscribeToAll(options: Omit<ReadAllOptions, 'limit'> = {}): Subscription {
    const sub = new EventStoreDbSubscription(this.client, options);
    this.subscriptions.add(sub);
    return sub;
  }

  /** Closes subscriptions and disposes of the client. */
  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }
}
