import { Command } from '@nestjs/cqrs';
import type { BroadcastEndReason, EventMetadata } from '@eventcast/events';

/** Ends the live broadcast `broadcastId` of `channelId`. */
export class EndBroadcastCommand extends Command<void> {
  constructor(
    readonly channelId: string,
    readonly broadcastId: string,
    readonly reason: BroadcastEndReason,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
