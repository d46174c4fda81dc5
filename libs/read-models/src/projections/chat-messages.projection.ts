/**
 * `chat_messages` read model (chat history) plus the clear marker `chat_rooms.cleared_at_position`.
 * ChatMessageSent is the hot path of chat-heavy traffic, so a whole runner batch is folded by
 * {@link ChatMessageBatch} into at most four set-based statements (one multi-row insert for all the sends).
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';
import { ChatMessageBatch, chatMessagesLookahead } from './chat-message-batch.js';
import type { BuildLookahead, BulkCopy, Projection } from './projection.js';

/** Checkpoint name of {@link ChatMessagesProjection} (the chat history says up to which position it is read). */
export const CHAT_MESSAGES_PROJECTION = 'chat-messages';

/**
 * Projects ChatMessageSent (new row; `sent_at` = its `sentAt`, v2; the `occurredAt` of v1 events via the upcaster), ChatMessageDeleted (`deleted_at` = its
 * `occurredAt`, `deleted_by` = the moderator; an already deleted message keeps its first deletion) and ChatCleared:
 * every not yet deleted message of the channel before the clear is marked deleted (only those after the previous
 * clear need touching), and `chat_rooms.cleared_at_position` is set to the clear's position (the history also
 * filters on it). A chat room row created here carries the default settings.
 */
export class ChatMessagesProjection implements Projection {
  readonly name = CHAT_MESSAGES_PROJECTION;
  readonly tables = ['chat_messages', 'chat_rooms'];
  readonly handles: readonly EventType[] = ['ChatMessageSent', 'ChatMessageDeleted', 'ChatCleared'];
  /** Rebuilds read deletes and clears ahead, so new rows are written already hidden (see chat-message-batch.ts). */
  readonly buildLookahead: BuildLookahead = chatMessagesLookahead;

  /** See {@link Projection.apply}. */
  apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    return this.applyBatch(trx, [event]);
  }

  /** See {@link Projection.applyBatch}; with `bulk` the new messages are copied in (see {@link ChatMessageBatch.flush}). */
  async applyBatch(trx: Transaction<DB>, events: readonly RecordedDomainEvent[], bulk?: BulkCopy): Promise<void> {
    const batch = new ChatMessageBatch(bulk?.lookaheadUntil);
    for (const e of events) batch.add(e);
    await batch.flush(trx, bulk);
  }
}
