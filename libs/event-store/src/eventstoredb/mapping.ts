/**
 * Conversions between the port's shapes and @eventstore/db-client v6 shapes.
 */
import { randomUUID } from 'node:crypto';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  jsonEvent,
  type AppendExpectedRevision,
  type EventData,
  type JSONType,
  type Position,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import { categoryOf, type NewEvent, type RecordedEvent } from '@eventcast/events';
import type { ExpectedRevision, ReadAllOptions } from '../port.js';

/** Metadata key that carries the catalog version of `data` (EventStoreDB has no version field). */
export const VERSION_KEY = 'eventcastVersion';

/** Maps our expected revision to the client's (`any` → ANY, `no_stream` → NO_STREAM, `stream_exists` → STREAM_EXISTS). */
export function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return expected;
}

/** Builds the client's JSON event; the version travels in metadata under {@link VERSION_KEY}. */
export function toEventData(event: NewEvent & { version: number }): EventData {
  return jsonEvent({
    id: event.id ?? randomUUID(),
    type: event.type,
    data: event.data as JSONType,
    metadata: { ...(event.metadata ?? {}), [VERSION_KEY]: event.version },
  });
}

/** A read position for `after` (commit position): the client wants both halves; we pass the commit twice. */
export function toPosition(after: bigint): Position {
  return { commit: after, prepare: after };
}

/** True for EventStoreDB's own events (`$`-prefixed types) and system streams. */
export function isSystem(event: EsdbRecordedEvent): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/** True when `event` passes the port's type and category filters. */
export function matches(event: RecordedEvent, options: Omit<ReadAllOptions, 'limit'>): boolean {
  if (options.eventTypes && !options.eventTypes.includes(event.type)) return false;
  if (options.categories && !options.categories.includes(categoryOf(event.streamName))) return false;
  return true;
}

/**
 * Converts a JSON event read from EventStoreDB. `globalPosition` is the event's commit position (0n when the
 * server does not report one, i.e. in stream reads from servers older than 22.6).
 */
export function fromEsdb(event: EsdbRecordedEvent): RecordedEvent {
  const raw = (event.isJson && typeof event.metadata === 'object' && event.metadata !== null && !(event.metadata instanceof Uint8Array)
    ? event.metadata
    : {}) as Record<string, unknown>;
  const { [VERSION_KEY]: version, ...metadata } = raw;
  return {
    id: event.id,
    type: event.type,
    version: typeof version === 'number' ? version : 1,
    streamName: event.streamId,
    revision: event.revision,
    globalPosition: event.position?.commit ?? 0n,
    occurredAt: event.created,
    data: event.isJson ? event.data : Buffer.from(event.data).toString('base64'),
    metadata,
  };
}
