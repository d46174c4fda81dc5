/**
 * @eventcast/event-store: the event store port, its PostgreSQL and EventStoreDB adapters, the contract suite every
 * adapter passes, and the JetStream publisher.
 */
export * from './port.js';
export * from './postgres/index.js';
export * from './eventstoredb/index.js';
export { EventPublisher, type EventPublisherOptions, type PublisherStatus } from './publisher.js';
export { ensureEventsStream, toMessage, DUPLICATE_WINDOW_MS, type EventMessage } from './publisher/jetstream.js';
export { createEventStore, type EventStoreConfig } from './factory.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { prepareEvents, type PreparedEvent } from './prepare.js';
