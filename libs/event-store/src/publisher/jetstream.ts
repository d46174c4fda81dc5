/**
 * JetStream side of the publisher: the events stream and the message of one event (docs/contracts.md).
 */
import type { JetStreamPublishOptions } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { EVENT_REDACTED_HEADER } from '@eventcast/contracts';
import { eventSubject, toPublishedWire, type RecordedEvent } from '@eventcast/events';

/** The events stream's set-up and duplicate window live in the one topology module (@eventcast/events/jetstream). */
export { ensureEventsStream, EVENTS_DUPLICATE_WINDOW_MS as DUPLICATE_WINDOW_MS } from '@eventcast/events/jetstream';

/** One event as a JetStream message: subject, JSON body and publish options (msg id + Eventcast headers). */
export interface EventMessage {
  subject: string;
  payload: string;
  options: Partial<JetStreamPublishOptions>;
}

/**
 * Builds the message of `event`: subject `eventcast.events.<category>.<channel>.<type>` (`eventSubject`), body `JSON(toPublishedWire(event))`
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
    subject: eventSubject(event.streamName, event.type, event.data),
    payload: JSON.stringify(wire),
    options: { msgID: event.id, headers: h, timeout: timeoutMs },
  };
}
