/**
 * Helpers of the contract suite: catalog-valid sample events, unique stream names and a bounded collector.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NewEvent, RecordedEvent } from '@eventcast/events';
import type { EventStore, Subscription } from '../port.js';

/** What the suite needs from an adapter under test. */
export interface ContractContext {
  store(): EventStore;
  /** False for stores whose positions are increasing but not gap-free (EventStoreDB's commit positions). */
  gapFreePositions: boolean;
}

/** A valid `PublishRejected` event (no I/O, no secrets); `n` varies the payload. */
export function rejected(n = 0, id?: string): NewEvent {
  const event: NewEvent = { type: 'PublishRejected', data: { channelId: null, reason: 'invalid_key', remoteAddress: `10.0.0.${n % 250}` } };
  if (id) event.id = id;
  return event;
}

/** A valid `ChannelInfoUpdated` event. */
export function infoUpdated(title = 'hello'): NewEvent {
  return { type: 'ChannelInfoUpdated', data: { channelId: randomUUID(), username: 'contract_user', title, category: 'music' } };
}

/** A category no other test uses: `ct<hex>`. */
export function uniqueCategory(): string {
  return `ct${randomBytes(5).toString('hex')}`;
}

/** A fresh stream name `<category>-<uuid>`. */
export function uniqueStream(category = uniqueCategory()): string {
  return `${category}-${randomUUID()}`;
}

/** Reads the whole log after `after` in pages of 500. */
export async function readAllAfter(store: EventStore, after: bigint, filters: { categories?: string[]; eventTypes?: string[] } = {}): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ ...filters, after, limit: 500 });
    out.push(...page);
    const last = page.at(-1);
    if (page.length < 500 || !last) return out;
    after = last.globalPosition;
  }
}

/**
 * Iterates `sub` with `for await` until `count` events arrived, calling `onEvent` after each (awaited), then closes it.
 * Rejects after `timeoutMs` (default 10 s), closing the subscription so the test does not hang.
 */
export async function collect(
  sub: Subscription,
  count: number,
  onEvent: (received: RecordedEvent[]) => Promise<void> = () => Promise.resolve(),
  timeoutMs = 10_000,
): Promise<RecordedEvent[]> {
  const received: RecordedEvent[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void sub.close();
  }, timeoutMs);
  try {
    for await (const event of sub) {
      received.push(event);
      await onEvent(received);
      if (received.length >= count) await sub.close();
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new Error(`subscription timed out after ${timeoutMs} ms with ${received.length}/${count} events`);
  return received;
}
