/**
 * Deterministic command and event ids for idempotent commands (docs/design.md, "Idempotency").
 *
 * A command retried with the same idempotency key (HTTP `Idempotency-Key`, WebSocket `chat.send` `nonce`) gets the
 * same command id, and its events the same event ids, so that whatever slips past the idempotency record (two
 * command-api processes racing after a lost record, a crash between append and record) is caught by the event
 * store's unique event id (DuplicateEventIdError) and by JetStream's de-duplication by message id (= event id).
 */
import { createHash } from 'node:crypto';
import type { EventMetadata, NewEvent, RecordedEvent } from '@eventcast/events';
import type { AppendResult, EventStore, ExpectedRevision, ReadAllOptions, Subscription } from '@eventcast/event-store';

/**
 * A name-based UUID from SHA-256 of the NUL-joined `parts`: UUIDv8 as RFC 9562 §5.8 / Appendix B.2 describe (the
 * first 128 bits of the hash with the version nibble set to 8 and the variant bits to 10).
 */
export function nameBasedUuid(...parts: readonly string[]): string {
  const bytes = createHash('sha256').update(parts.join('\u0000')).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The id of a command named by an idempotency key.
 * @param channel where the key came from (`http`, `chat.send`): keys of different channels never collide.
 * @param principal who sent it (`account:<id>`, `token:<id>`, the sender's account id): the key is per sender.
 * @param key the client's key or nonce.
 */
export function commandIdOf(channel: string, principal: string, key: string): string {
  return nameBasedUuid('eventcast-command', channel, principal, key);
}

/** The id of the `n`-th (0-based) event that command `commandId` appends to `stream`. */
export function eventIdOf(commandId: string, stream: string, n: number): string {
  return nameBasedUuid('eventcast-event', commandId, stream, String(n));
}

/** The command id carried in event metadata (`metadata.commandId`), if any. */
export function commandIdIn(metadata: EventMetadata | undefined): string | undefined {
  const id = metadata?.['commandId'];
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/**
 * Wraps an event store so that appended events without an `id` whose metadata names a command (`commandId`) get the
 * id {@link eventIdOf}(commandId, stream, n), n counting that command's events in the append. Used where each command
 * appends its events in one append per stream (the chat rooms' group commit), so a retried command reproduces the
 * same ids. Everything else is passed through.
 */
export class CommandEventIds implements EventStore {
  constructor(private readonly inner: EventStore) {}

  /** See {@link EventStore.append}; @throws {DuplicateEventIdError} when the command's events are already stored. */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const counts = new Map<string, number>();
    const withIds = events.map((e) => {
      const commandId = commandIdIn(e.metadata);
      if (e.id !== undefined || commandId === undefined) return e;
      const n = counts.get(commandId) ?? 0;
      counts.set(commandId, n + 1);
      return { ...e, id: eventIdOf(commandId, stream, n) };
    });
    return this.inner.append(stream, withIds, expected);
  }

  readStream(stream: string, options?: { from?: bigint; limit?: number }): Promise<RecordedEvent[]> {
    return this.inner.readStream(stream, options);
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  headPosition(): Promise<bigint> {
    return this.inner.headPosition();
  }

  subscribeToAll(options?: Omit<ReadAllOptions, 'limit'>): Subscription {
    return this.inner.subscribeToAll(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Finds a stored event of `stream` by id among the stream's events from revision `from` (the caller's hint, e.g. the
 * cached revision minus a window), reading forward in pages. @returns the event or undefined.
 */
export async function findEvent(store: EventStore, stream: string, id: string, from: bigint): Promise<RecordedEvent | undefined> {
  for (let next = from < 0n ? 0n : from; ; ) {
    const page = await store.readStream(stream, { from: next, limit: 1000 });
    const hit = page.find((e) => e.id === id);
    if (hit) return hit;
    const last = page.at(-1);
    if (!last || page.length < 1000) return undefined;
    next = last.revision + 1n;
  }
}
