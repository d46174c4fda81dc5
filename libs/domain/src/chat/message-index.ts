/**
 * The chat room's bounded memory of recent messages: message id → sender id, used only to delete a message (the
 * `ChatMessageDeleted` event names the sender). It keeps the last {@link MESSAGE_INDEX_CAPACITY} messages at most
 * (at least `capacity - CHUNK`), in immutable chunks of {@link CHUNK} so adding a message copies ≤ 100 entries.
 * Older messages can no longer be deleted through the command side (`message_not_found`); by then they have
 * scrolled far out of every viewer's chat.
 */

/** Messages per chunk. */
export const CHUNK = 100;
/** Most messages remembered. */
export const MESSAGE_INDEX_CAPACITY = 1000;

/** Immutable index of recent messages, oldest chunk first. */
export interface MessageIndex {
  readonly chunks: readonly ReadonlyMap<string, string>[];
}

/** The empty index. */
export const emptyMessageIndex: MessageIndex = { chunks: [] };

/** `index` with `messageId → senderId` added, dropping the oldest chunk beyond capacity. */
export function indexMessage(index: MessageIndex, messageId: string, senderId: string): MessageIndex {
  const last = index.chunks.at(-1);
  if (last && last.size < CHUNK) {
    const chunk = new Map(last);
    chunk.set(messageId, senderId);
    return { chunks: [...index.chunks.slice(0, -1), chunk] };
  }
  const chunks = [...index.chunks, new Map([[messageId, senderId]])];
  return { chunks: chunks.length > MESSAGE_INDEX_CAPACITY / CHUNK ? chunks.slice(1) : chunks };
}

/** The sender of a remembered message, or undefined. */
export function senderOf(index: MessageIndex, messageId: string): string | undefined {
  for (const chunk of index.chunks) {
    const sender = chunk.get(messageId);
    if (sender !== undefined) return sender;
  }
  return undefined;
}

/** `index` without `messageId` (same object when absent). */
export function forgetMessage(index: MessageIndex, messageId: string): MessageIndex {
  if (senderOf(index, messageId) === undefined) return index;
  return {
    chunks: index.chunks.map((c) => {
      if (!c.has(messageId)) return c;
      const chunk = new Map(c);
      chunk.delete(messageId);
      return chunk;
    }),
  };
}
