/**
 * Per-event debug lines of the projector: `{ id, type, position, stream, correlationId, causationId }` with message
 * `event projected`, so one correlation id can be followed from the command's HTTP/WebSocket request through the event
 * into the read model (README, "Observability"). Skipped entirely unless the logger's level is `debug` or lower.
 */
import type { RecordedEvent } from '@eventcast/events';
import type { Logger } from '@eventcast/platform';

/**
 * Logs one debug line per event just committed to the read models.
 * @param via `jetstream` (live path) or `catch-up` (read from the event store).
 */
export function logProjected(logger: Logger, events: readonly RecordedEvent[], via: 'jetstream' | 'catch-up'): void {
  if (!logger.isLevelEnabled('debug')) return;
  for (const e of events) {
    logger.debug(
      { id: e.id, type: e.type, position: e.globalPosition.toString(), stream: e.streamName, correlationId: e.metadata.correlationId, causationId: e.metadata.causationId, via },
      'event projected',
    );
  }
}
