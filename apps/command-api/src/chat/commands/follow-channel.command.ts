import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@eventcast/events';
import type { ChatUser } from '@eventcast/domain';

/** `follower` follows (`follow` true) or unfollows the channel `channelUsername`. */
export class FollowChannelCommand extends Command<{ following: boolean }> {
  constructor(
    readonly channelUsername: string,
    readonly follower: ChatUser,
    readonly follow: boolean,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
