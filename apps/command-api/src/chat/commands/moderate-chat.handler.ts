import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, type ChatChannel, type ChatRoomCommand, type ChatUser } from '@eventcast/domain';
import { ChannelDirectory } from '../channel-directory.js';
import { ChatRooms } from '../chat-rooms.js';
import { ModerateChatCommand, type ModerationAction, type ModerationOutcome } from './moderate-chat.command.js';

/** The domain command of an action, with the resolved channel, actor and target. */
function toDomain(action: ModerationAction, channel: ChatChannel, actor: ChatUser, target: ChatUser | null): ChatRoomCommand {
  const base = { channel, actor };
  switch (action.type) {
    case 'TimeOutUser':
      return { ...base, type: 'TimeOutUser', target: target as ChatUser, durationSeconds: action.durationSeconds, reason: action.reason, now: new Date() };
    case 'BanUser':
      return { ...base, type: 'BanUser', target: target as ChatUser, reason: action.reason };
    case 'UnbanUser':
    case 'AddModerator':
    case 'RemoveModerator':
      return { ...base, type: action.type, target: target as ChatUser };
    default:
      return { ...base, ...action };
  }
}

/**
 * Resolves the channel and the target username (404 `channel_not_found` / `user_not_found`), then decides the action
 * on the cached chat room (permissions and rules in the chat room decider) and appends the events.
 * @throws {DomainError} `channel_not_found`, `user_not_found`, `forbidden` and the moderation errors of the decider.
 */
@CommandHandler(ModerateChatCommand)
export class ModerateChatHandler implements ICommandHandler<ModerateChatCommand> {
  constructor(
    private readonly directory: ChannelDirectory,
    private readonly rooms: ChatRooms,
  ) {}

  /** @returns the room's state after the action, the appended events (none when it changed nothing) and the target. */
  async execute({ channelUsername, actor, action, metadata }: ModerateChatCommand): Promise<ModerationOutcome> {
    const channel = await this.directory.channelByUsername(channelUsername);
    if (!channel) throw new DomainError('channel_not_found', 'no such channel');
    let target: ChatUser | null = null;
    if ('targetUsername' in action) {
      target = await this.directory.userByUsername(action.targetUsername);
      if (!target) throw new DomainError('user_not_found', `no user "${action.targetUsername}"`);
    }
    const { state, events } = await this.rooms.handleRoom(channel.id, () => toDomain(action, channel, actor, target), { ...metadata, actorId: actor.id });
    return { state, events, target };
  }
}
