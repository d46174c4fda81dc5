export { PostgresEventStore, type PostgresEventStoreOptions } from './store.js';
export { PostgresSubscription, type PostgresSubscriptionOptions } from './subscription.js';
export { applyDdlLocked, migrate, NOTIFY_CHANNEL } from './schema.js';
export { recordedFromRaw } from './read.js';
export type { RawRecordedEvent, JsonLineRow, CopyJsonLinesOptions } from './read.js';
export { guardPool, isStoreUnavailableError } from './pool.js';
