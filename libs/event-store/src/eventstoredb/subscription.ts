/**
 * Catch-up subscription over EventStoreDB's `$all`, consumed with `for await` (never `on('data', async …)`, whose
 * handlers are not awaited and race), resubscribing from the last delivered position after a fault.
 */
import {
  START,
  eventTypeFilter,
  excludeSystemEvents,
  streamNameFilter,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Filter,
  type Position,
} from '@eventstore/db-client';
import type { RecordedEvent } from '@eventcast/events';
import type { ReadAllOptions, Subscription } from '../port.js';
import { Backoff, sleep } from '../backoff.js';
import { fromEsdb, isSystem, matches, toPosition } from './mapping.js';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Server-side filter: EventStoreDB filters on stream name *or* event type, not both, so categories win
 * (`^(c1|c2)(-|$)` on the stream name) and types are re-checked client-side; with no filter, system events are
 * excluded on the server.
 */
export function serverFilter(options: Omit<ReadAllOptions, 'limit'>): Filter {
  if (options.categories?.length) return streamNameFilter({ regex: `^(${options.categories.map(escape).join('|')})(-|$)` });
  if (options.eventTypes?.length) return eventTypeFilter({ regex: `^(${options.eventTypes.map(escape).join('|')})$` });
  return excludeSystemEvents();
}

/**
 * Iterate once with `for await`: events after `options.after` (commit position) in `$all` order, then live.
 * On a stream error (e.g. a gRPC keep-alive drop) it resubscribes from the last delivered event's full position
 * with capped exponential backoff. `close()` unsubscribes and ends the iteration.
 */
export class EventStoreDbSubscription implements Subscription {
  private closed = false;
  private current: AllStreamSubscription | undefined;
  private iterator: AsyncGenerator<RecordedEvent> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: Omit<ReadAllOptions, 'limit'> = {},
  ) {}

  [Symbol.asyncIterator](): AsyncGenerator<RecordedEvent> {
    this.iterator ??= this.run();
    return this.iterator;
  }

  /** Unsubscribes and ends the iteration. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    const sub = this.current;
    this.current = undefined;
    await sub?.unsubscribe().catch(() => undefined);
  }

  private async *run(): AsyncGenerator<RecordedEvent> {
    const after = this.options.after ?? 0n;
    let from: Position | typeof START = after > 0n ? toPosition(after) : START;
    const backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });
    try {
      while (!this.closed) {
        const sub = this.client.subscribeToAll({ fromPosition: from, filter: serverFilter(this.options) });
        this.current = sub;
        try {
          for await (const resolved of sub) {
            if (this.closed) return;
            backoff.reset();
            const raw = resolved.event;
            if (!raw || isSystem(raw)) continue;
            from = raw.position;
            const event = fromEsdb(raw);
            if (event.globalPosition <= after || !matches(event, this.options)) continue;
            yield event;
          }
          if (this.closed) return;
        } catch (err) {
          if (this.closed) return;
          void err; // transient by assumption: the server or network dropped the stream; resubscribe
        }
        await sub.unsubscribe().catch(() => undefined);
        await sleep(backoff.next(), this.abort.signal);
      }
    } finally {
      await this.close();
    }
  }
}
