import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, type ChatChannel, type ChatRoomCommand, type ChatUser } from '@eventcast/domain';
import { DuplicateEventIdError } from '@eventcast/event-store';
import { streams } from '@eventcast/events';
import { commandIdIn, eventIdOf } from '../../idempotency/command-ids.js';
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
 * A command with `metadata.commandId` (an `Idempotency-Key`) gets derived event ids; when the store refuses them as
 * duplicates, the action was already stored by an earlier attempt and is answered as done.
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
    try {
      const { state, events } = await this.rooms.handleRoom(channel.id, () => toDomain(action, channel, actor, target), { ...metadata, actorId: actor.id });
      return { state, events, target };
    } catch (err) {
      // A retried command (same Idempotency-Key, so the same derived event ids) whose first attempt was stored:
      // already done, answer with the room as it is now.
      const commandId = commandIdIn(metadata);
      if (!(err instanceof DuplicateEventIdError) || commandId === undefined) throw err;
      const mine = Array.from({ length: 10 }, (_, n) => eventIdOf(commandId, streams.chat(channel.id), n));
      if (!err.ids.some((id) => mine.includes(id))) throw err;
      return { state: (await this.rooms.roomState(channel.id)).state, events: [], target };
    }
  }
}
