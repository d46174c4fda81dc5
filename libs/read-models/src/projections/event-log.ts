/**
 * The part of the event-store port the projectors read: the global log (`readAll`). Any `EventStore` of
 * @eventcast/event-store satisfies it; tests can pass a small in-memory double.
 */
import type { EventStore } from '@eventcast/event-store';

export type { ReadAllOptions } from '@eventcast/event-store';

/** Reads the store's global log (`$all`) forward, in global order, committed events only. */
export type EventLogReader = Pick<EventStore, 'readAll'>;
