/**
 * Constructs the event store the projectors catch up from, with the library's factory
 * (`PostgresEventStore` by default, schema migrated; EventStoreDB when `EVENT_STORE=eventstoredb`).
 */
import { createEventStore as createConfiguredStore, type EventStore } from '@eventcast/event-store';

/** Which store to open (the shared env of docs/contracts.md). */
export interface EventStoreSelection {
  /** `postgres` (default) or `eventstoredb`. */
  kind: 'postgres' | 'eventstoredb';
  /** PostgreSQL URL of the store. */
  databaseUrl: string;
  /** `esdb://…` URL when `kind` is `eventstoredb`. */
  eventStoreDbUrl: string;
}

/**
 * Opens the configured event store; the projectors use only `readAll` (see `EventLogReader`), the app `close()`s it.
 * @throws {Error} on connection/migration errors or `eventstoredb` without a URL.
 */
export function createEventStore(selection: EventStoreSelection): Promise<EventStore> {
  return createConfiguredStore({ EVENT_STORE: selection.kind, DATABASE_URL: selection.databaseUrl, EVENTSTORE_URL: selection.eventStoreDbUrl });
}
