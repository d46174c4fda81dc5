/**
 * Catalog validation shared by the adapters: every appended event passes `validateEventData` before any I/O.
 */
import { randomUUID } from 'node:crypto';
import { eventVersions, InvalidEventError, isEventType, validateEventData, type EventMetadata, type NewEvent } from '@eventcast/events';

/** An event id: a UUID in its canonical text form (RFC 9562 §4), any version. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An event validated against the catalog, with its id and version filled in. */
export interface PreparedEvent {
  id: string;
  type: string;
  version: number;
  data: unknown;
  metadata: EventMetadata;
}

/**
 * Validates every event against the catalog before any I/O, so a bad batch writes nothing.
 * The version defaults to the catalog's current one; data at the current version is stored as parsed (unknown keys
 * stripped), older versions are stored as given and upcast on read. A caller-supplied `id` must be a UUID (the
 * store's id column and EventStoreDB's event ids are UUIDs); absent ids get `crypto.randomUUID()`.
 * @throws {InvalidEventError} for an unknown type, version, an invalid payload (rule: libs/events catalog) or an id
 *   that is not a UUID.
 */
export function prepareEvents(events: readonly NewEvent[]): PreparedEvent[] {
  return events.map((e) => {
    if (e.id !== undefined && !UUID.test(e.id)) throw new InvalidEventError(`event id must be a UUID, got "${e.id}"`, ['id']);
    const version = e.version ?? (isEventType(e.type) ? eventVersions[e.type] : 1);
    const parsed = validateEventData(e.type, version, e.data);
    const current = isEventType(e.type) && eventVersions[e.type] === version;
    return {
      id: e.id ?? randomUUID(),
      type: e.type,
      version,
      data: current ? parsed : e.data,
      metadata: e.metadata ?? {},
    };
  });
}

