import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streams } from '@eventcast/events';
import { chatRoleOf, chatTextProblem, DomainError, isFollower, type ChatRoomCommand, type ChatRoomState } from '@eventcast/domain';
import { DuplicateEventIdError } from '@eventcast/event-store';
import { commandIdIn, eventIdOf, findEvent } from '../../idempotency/command-ids.js';
import { ChannelDirectory } from '../channel-directory.js';
import { ChatRooms } from '../chat-rooms.js';
import { PastDeadlineError } from '../send-deadlines.js';
import { SendChatMessageCommand, type SentChatMessage } from './send-chat-message.command.js';

/** How far back (events) a retried message is looked up in its chat room to answer with its original ack. */
const RETRY_LOOKUP_WINDOW = 2000n;

/** Thrown inside the chat room lane when a retried message is already in the room: settled as "already done". */
class AlreadySent extends Error {
  constructor() {
    super('message already sent');
  }
}

/** True when the room's index of recent messages (the last ≤ 1000, not deleted or cleared) has `messageId`. */
function remembers(state: ChatRoomState, messageId: string): boolean {
  return state.messages.chunks.some((chunk) => chunk.has(messageId));
}

/**
 * Decides a chat message on the cached chat room (rules of docs/chat.md, in the chat room decider) and appends
 * `ChatMessageSent`, or `ChatMessageRefused` for a refuse-mode blocked term or a viewer's text that breaks the text rule. Whether the sender follows is read from
 * `follows-<channelId>` only when followers-only mode applies to them. `now` is taken again on every attempt.
 *
 * Idempotency (docs/design.md, "Idempotency"): a command with `metadata.commandId` (from an `Idempotency-Key` or a
 * `chat.send` nonce) uses it as the message id, and its event id is derived from it. A retry that reaches the room
 * although the first attempt was stored — found among the room's recent messages, or refused by the store as a
 * duplicate event id — is answered with the original message's ack instead of appending it again.
 * @throws {PastDeadlineError} (`unavailable`, with `retryAfterMs`) when `expired()` said so before the message was decided,
 *   `channel_not_found`, `blocked_term` and `invalid_request` (text rule; with the reason) after
 *   recording the refusal, and the chat codes.
 */
@CommandHandler(SendChatMessageCommand)
export class SendChatMessageHandler implements ICommandHandler<SendChatMessageCommand> {
  constructor(
    private readonly directory: ChannelDirectory,
    private readonly rooms: ChatRooms,
  ) {}

  /** @returns the message id and its `visibleAt`. */
  async execute({ channelId, sender, text, metadata, bot, expired }: SendChatMessageCommand): Promise<SentChatMessage> {
    if (expired?.() === true) throw new PastDeadlineError();
    const channel = await this.directory.channelById(channelId);
    if (!channel) throw new DomainError('channel_not_found', 'no such channel');
    const commandId = commandIdIn(metadata);
    const messageId = commandId ?? randomUUID();
    try {
      const { events } = await this.rooms.handleRoom(
        channel.id,
        async (state): Promise<ChatRoomCommand> => {
          if (commandId !== undefined && remembers(state, messageId)) throw new AlreadySent();
          // Queued in the room's lane past the sender's deadline: nobody waits for this decision any more.
          if (expired?.() === true) throw new PastDeadlineError();
          const needsFollows = state.settings.followersOnly && chatRoleOf(state, channel, sender.id) === 'viewer';
          const follows = needsFollows && isFollower(await this.rooms.followsState(channel.id), sender.id);
          return { type: 'SendChatMessage', messageId, sender, text, now: new Date(), follows, channel, bot };
        },
        { ...metadata, actorId: sender.id },
      );
      const event = events[0];
      if (event?.type === 'ChatMessageRefused' && event.data.reason === 'invalid_text') throw invalidText(text);
      if (event?.type !== 'ChatMessageSent') throw new DomainError('blocked_term', 'the message contains a blocked term');
      return { messageId, visibleAt: event.data.visibleAt };
    } catch (err) {
      if (commandId === undefined) throw err;
      const stream = streams.chat(channel.id);
      const eventId = eventIdOf(commandId, stream, 0);
      const retried = err instanceof AlreadySent || (err instanceof DuplicateEventIdError && err.ids.includes(eventId));
      if (!retried) throw err;
      return this.originalAck(stream, channel.id, eventId, messageId);
    }
  }

  /**
   * The ack of a message stored by an earlier attempt of the same command: its `visibleAt` from the stored event
   * (a stored refusal answers `blocked_term` again).
   */
  private async originalAck(stream: string, channelId: string, eventId: string, messageId: string): Promise<SentChatMessage> {
    const { revision } = await this.rooms.roomState(channelId);
    const stored = await findEvent(this.rooms.store, stream, eventId, (revision ?? 0n) - RETRY_LOOKUP_WINDOW);
    if (stored?.type === 'ChatMessageRefused') {
      const reason = (stored.data as { reason?: unknown }).reason;
      throw reason === 'invalid_text' ? new DomainError('invalid_request', 'the text contains characters that are not allowed') : new DomainError('blocked_term', 'the message contains a blocked term');
    }
    const data = stored?.data as { visibleAt?: unknown } | undefined;
    if (typeof data?.visibleAt === 'string') return { messageId, visibleAt: data.visibleAt };
    // Stored, but older than the look-up window: the message is visible by now.
    return { messageId, visibleAt: new Date().toISOString() };
  }
}

/** The 400 for a viewer's text that broke the text rule (its refusal was recorded): the rule's reason. */
function invalidText(text: string): DomainError {
  return new DomainError('invalid_request', chatTextProblem(text.trim()) ?? 'the text contains characters that are not allowed');
}
