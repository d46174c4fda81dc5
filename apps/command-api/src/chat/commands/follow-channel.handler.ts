import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '@eventcast/domain';
import { ChannelDirectory } from '../channel-directory.js';
import { ChatRooms } from '../chat-rooms.js';
import { FollowChannelCommand } from './follow-channel.command.js';

/**
 * Appends ChannelFollowed/ChannelUnfollowed to `follows-<channelId>` (nothing when already so).
 * @throws {DomainError} `channel_not_found`, `cannot_follow_self`.
 */
@CommandHandler(FollowChannelCommand)
export class FollowChannelHandler implements ICommandHandler<FollowChannelCommand> {
  constructor(
    private readonly directory: ChannelDirectory,
    private readonly rooms: ChatRooms,
  ) {}

  /** @returns `{ following }` after the command. */
  async execute({ channelUsername, follower, follow, metadata }: FollowChannelCommand): Promise<{ following: boolean }> {
    const channel = await this.directory.channelByUsername(channelUsername);
    if (!channel) throw new DomainError('channel_not_found', 'no such channel');
    await this.rooms.handleFollows(channel.id, { type: follow ? 'Follow' : 'Unfollow', channel, follower }, { ...metadata, actorId: follower.id });
    return { following: follow };
  }
}
