import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Aggregates } from '../../core/aggregates.js';
import { EndBroadcastCommand } from './end-broadcast.command.js';

/** Appends BroadcastEnded. @throws {DomainError} `not_live`, `broadcast_mismatch`. */
@CommandHandler(EndBroadcastCommand)
export class EndBroadcastHandler implements ICommandHandler<EndBroadcastCommand> {
  constructor(private readonly aggregates: Aggregates) {}

  /** Ends the broadcast; resolves when the event is durable. */
  async execute({ channelId, broadcastId, reason, metadata }: EndBroadcastCommand): Promise<void> {
    const command = { type: 'EndBroadcast', broadcastId, reason, now: new Date() } as const;
    await this.aggregates.broadcasts.handle(channelId, command, metadata);
  }
}
