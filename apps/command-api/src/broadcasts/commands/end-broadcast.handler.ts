import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streams } from '@eventcast/events';
import { broadcastDecider } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { handleCommand } from '../../core/handle-command.js';
import { EVENT_STORE } from '../../core/tokens.js';
import { EndBroadcastCommand } from './end-broadcast.command.js';

/** Appends BroadcastEnded. @throws {DomainError} `not_live`, `broadcast_mismatch`. */
@CommandHandler(EndBroadcastCommand)
export class EndBroadcastHandler implements ICommandHandler<EndBroadcastCommand> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Ends the broadcast; resolves when the event is durable. */
  async execute({ channelId, broadcastId, reason, metadata }: EndBroadcastCommand): Promise<void> {
    const command = { type: 'EndBroadcast', broadcastId, reason, now: new Date() } as const;
    await handleCommand(this.store, streams.broadcast(channelId), broadcastDecider, command, metadata);
  }
}
