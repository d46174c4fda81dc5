/** @eventcast/read-models/testing: fixtures, an in-memory event log and read-model builders for tests (never for production code). */
export * from './chat-fixtures.js';
export * from './dump.js';
export * from './fixtures.js';
export * from './memory-event-log.js';
export * from './read-models.js';
