import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streams } from '@eventcast/events';
import { broadcastDecider, DomainError } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { AccountReader } from '../../accounts/account-reader.js';
import { handleCommand } from '../../core/handle-command.js';
import { EVENT_STORE } from '../../core/tokens.js';
import { StartBroadcastCommand } from './start-broadcast.command.js';

/**
 * Appends BroadcastStarted to `broadcast-<channelId>` with the channel's username, and tells whether the channel keeps
 * its broadcasts as VODs (`recordingEnabled` of the account, issue 11: the ingest's `record`).
 * @throws {DomainError} `unknown_channel` (no such account), `already_live` (another broadcast is live).
 */
@CommandHandler(StartBroadcastCommand)
export class StartBroadcastHandler implements ICommandHandler<StartBroadcastCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly accounts: AccountReader,
  ) {}

  /** @returns the broadcast id and whether it is kept as a VOD. */
  async execute({ channelId, broadcastId, media, metadata }: StartBroadcastCommand): Promise<{ broadcastId: string; record: boolean }> {
    const { state } = await this.accounts.load(channelId);
    if (state.status !== 'registered') throw new DomainError('unknown_channel', 'no channel with this id');
    const command = { type: 'StartBroadcast', broadcastId, channelId, username: state.username, media, now: new Date() } as const;
    await handleCommand(this.store, streams.broadcast(channelId), broadcastDecider, command, metadata);
    return { broadcastId, record: state.recordingEnabled };
  }
}
