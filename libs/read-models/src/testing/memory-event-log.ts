/**
 * Test double of the event store's global log: an in-memory, gap-free `$all` with catalog-built events.
 */
import { randomUUID } from 'node:crypto';
import { newEvent, type EventData, type EventType, type RecordedEvent } from '@eventcast/events';
import type { EventLogReader, ReadAllOptions } from '../projections/event-log.js';

/** In-memory global log; positions start at 1; `occurredAt` = 2026-11-22T12:00:00Z + position seconds. */
export class MemoryEventLog implements EventLogReader {
  readonly events: RecordedEvent[] = [];
  private readonly revisions = new Map<string, bigint>();

  /**
   * Records a catalog event (validated by `newEvent`) on `stream`.
   * @returns the recorded event with its id, revision, global position and time.
   * @throws {InvalidEventError} when `data` does not match the schema.
   */
  append<T extends EventType>(stream: string, type: T, data: EventData<T>): RecordedEvent {
    const e = newEvent(type, data);
    const revision = this.revisions.has(stream) ? this.revisions.get(stream)! + 1n : 0n;
    this.revisions.set(stream, revision);
    const globalPosition = BigInt(this.events.length + 1);
    const recorded: RecordedEvent = {
      id: randomUUID(),
      type: e.type,
      version: e.version ?? 1,
      streamName: stream,
      revision,
      globalPosition,
      occurredAt: new Date(Date.UTC(2026, 10, 22, 12, 0, 0) + Number(globalPosition) * 1000),
      data: e.data,
      metadata: {},
    };
    this.events.push(recorded);
    return recorded;
  }

  /** Events after `options.after`, at most `options.limit` (default 1000). */
  readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? 0n;
    return Promise.resolve(this.events.filter((e) => e.globalPosition > after).slice(0, options.limit ?? 1000));
  }
}
