import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@eventcast/events';
import type { ChatUser } from '@eventcast/domain';

/** A sent message: its id and when viewers may see it (ISO-8601). */
export interface SentChatMessage {
  messageId: string;
  visibleAt: string;
}

/** `sender` writes `text` in the chat of channel `channelId` (from NATS `chat.send` or HTTP). */
export class SendChatMessageCommand extends Command<SentChatMessage> {
  constructor(
    readonly channelId: string,
    readonly sender: ChatUser,
    readonly text: string,
    readonly metadata: EventMetadata,
    /** Set when the channel's bot sends with an API token (then `sender` is the channel owner). */
    readonly bot?: { tokenId: string; name: string },
    /**
     * True once the message must be refused `unavailable` (retry later) instead of being decided: set by
     * `chat.send-batch`, whose edge stops waiting for the reply at the batch's deadline (overload shedding,
     * docs/chat.md; ../send-deadlines.ts).
     */
    readonly expired?: () => boolean,
  ) {
    super();
  }
}
