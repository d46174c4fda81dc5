/**
 * JetStream side of the publisher: the events stream and the message of one event (docs/contracts.md).
 */
import { JetStreamApiCodes, JetStreamApiError, StorageType, type JetStreamManager, type JetStreamPublishOptions } from '@nats-io/jetstream';
import { headers, nanos } from '@nats-io/transport-node';
import { EVENT_REDACTED_HEADER } from '@eventcast/contracts';
import { EVENTS_SUBJECT_PREFIX, eventSubject, toPublishedWire, type RecordedEvent } from '@eventcast/events';

/** JetStream de-duplication window: 2 hours (contracts.md). */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 60 * 1000;

/**
 * Creates the JetStream stream `name` (subjects `eventcast.events.>`, file storage, duplicate window 2 h) when
 * missing; an existing stream is left as configured.
 * @throws the client's errors when JetStream is unavailable.
 */
export async function ensureEventsStream(jsm: JetStreamManager, name: string): Promise<void> {
  try {
    await jsm.streams.info(name);
    return;
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
  }
  await jsm.streams.add({
    name,
    subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
}

/** One event as a JetStream message: subject, JSON body and publish options (msg id + Eventcast headers). */
export interface EventMessage {
  subject: string;
  payload: string;
  options: Partial<JetStreamPublishOptions>;
}

/**
 * Builds the message of `event`: subject `eventcast.events.<category>.<type>`, body `JSON(toPublishedWire(event))`
 * (the wire form without credential fields, ARCHITECTURE.md invariant 9), `Nats-Msg-Id` = event id (via `msgID`) and
 * headers `Eventcast-Global-Position`, `Eventcast-Stream`, `Eventcast-Revision`, `Eventcast-Event-Type`,
 * `Eventcast-Event-Version`, and `Eventcast-Redacted` (the removed fields, comma-separated) when fields were removed.
 */
export function toMessage(event: RecordedEvent, timeoutMs: number): EventMessage {
  const h = headers();
  h.set('Eventcast-Global-Position', event.globalPosition.toString());
  h.set('Eventcast-Stream', event.streamName);
  h.set('Eventcast-Revision', event.revision.toString());
  h.set('Eventcast-Event-Type', event.type);
  h.set('Eventcast-Event-Version', String(event.version));
  const { wire, redacted } = toPublishedWire(event);
  if (redacted.length > 0) h.set(EVENT_REDACTED_HEADER, redacted.join(','));
  return {
    subject: eventSubject(event.streamName, event.type),
    payload: JSON.stringify(wire),
    options: { msgID: event.id, headers: h, timeout: timeoutMs },
  };
}
