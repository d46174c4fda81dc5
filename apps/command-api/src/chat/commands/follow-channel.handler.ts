import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '@eventcast/domain';
import { DuplicateEventIdError } from '@eventcast/event-store';
import { streams } from '@eventcast/events';
import { commandIdIn, eventIdOf } from '../../idempotency/command-ids.js';
import { ChannelDirectory } from '../channel-directory.js';
import { ChatRooms } from '../chat-rooms.js';
import { FollowChannelCommand } from './follow-channel.command.js';

/**
 * Appends ChannelFollowed/ChannelUnfollowed to `follows-<channelId>` (nothing when already so).
 * A command with `metadata.commandId` (an `Idempotency-Key`) gets derived event ids; when the store refuses them as
 * duplicates (a keyed follow retried after follow → unfollow, its idempotency record lost), the command was already
 * done by its first attempt and is answered as such, as ModerateChatHandler does.
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
    try {
      await this.rooms.handleFollows(channel.id, { type: follow ? 'Follow' : 'Unfollow', channel, follower }, { ...metadata, actorId: follower.id });
    } catch (err) {
      const commandId = commandIdIn(metadata);
      if (!(err instanceof DuplicateEventIdError) || commandId === undefined) throw err;
      const mine = Array.from({ length: 10 }, (_, n) => eventIdOf(commandId, streams.follows(channel.id), n));
      if (!err.ids.some((id) => mine.includes(id))) throw err;
    }
    return { following: follow };
  }
}
