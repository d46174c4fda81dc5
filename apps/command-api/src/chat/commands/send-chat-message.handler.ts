import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { chatRoleOf, chatTextProblem, DomainError, isFollower, type ChatRoomCommand } from '@eventcast/domain';
import { ChannelDirectory } from '../channel-directory.js';
import { ChatRooms } from '../chat-rooms.js';
import { SendChatMessageCommand, type SentChatMessage } from './send-chat-message.command.js';

/**
 * Decides a chat message on the cached chat room (rules of docs/chat.md, in the chat room decider) and appends
 * `ChatMessageSent`, or `ChatMessageRefused` for a refuse-mode blocked term or a viewer's text that breaks the text rule. Whether the sender follows is read from
 * `follows-<channelId>` only when followers-only mode applies to them. `now` is taken again on every attempt.
 * @throws {DomainError} `channel_not_found`, `blocked_term` and `invalid_request` (text rule; with the reason) after
 *   recording the refusal, and the chat codes.
 */
@CommandHandler(SendChatMessageCommand)
export class SendChatMessageHandler implements ICommandHandler<SendChatMessageCommand> {
  constructor(
    private readonly directory: ChannelDirectory,
    private readonly rooms: ChatRooms,
  ) {}

  /** @returns the message id and its `visibleAt`. */
  async execute({ channelId, sender, text, metadata, bot }: SendChatMessageCommand): Promise<SentChatMessage> {
    const channel = await this.directory.channelById(channelId);
    if (!channel) throw new DomainError('channel_not_found', 'no such channel');
    const messageId = randomUUID();
    const { events } = await this.rooms.handleRoom(
      channel.id,
      async (state): Promise<ChatRoomCommand> => {
        const needsFollows = state.settings.followersOnly && chatRoleOf(state, channel, sender.id) === 'viewer';
        const follows = needsFollows && isFollower(await this.rooms.followsState(channel.id), sender.id);
        return { type: 'SendChatMessage', messageId, sender, text, now: new Date(), follows, channel, bot };
      },
      { ...metadata, actorId: sender.id },
    );
    const event = events[0];
    if (event?.type === 'ChatMessageRefused' && event.data.reason === 'invalid_text') {
      throw new DomainError('invalid_request', chatTextProblem(text.trim()) ?? 'the text contains characters that are not allowed');
    }
    if (event?.type !== 'ChatMessageSent') throw new DomainError('blocked_term', 'the message contains a blocked term');
    return { messageId, visibleAt: event.data.visibleAt };
  }
}
