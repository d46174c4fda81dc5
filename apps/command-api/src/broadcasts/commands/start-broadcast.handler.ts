import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '@eventcast/domain';
import { AccountReader } from '../../accounts/account-reader.js';
import { Aggregates } from '../../core/aggregates.js';
import { StartBroadcastCommand } from './start-broadcast.command.js';

/**
 * Appends BroadcastStarted to `broadcast-<channelId>` with the channel's username, and tells whether the channel keeps
 * its broadcasts as VODs (`recordingEnabled` of the account, issue 11: the ingest's `record`).
 * @throws {DomainError} `unknown_channel` (no such account), `already_live` (another broadcast is live).
 */
@CommandHandler(StartBroadcastCommand)
export class StartBroadcastHandler implements ICommandHandler<StartBroadcastCommand> {
  constructor(
    private readonly aggregates: Aggregates,
    private readonly accounts: AccountReader,
  ) {}

  /** @returns the broadcast id and whether it is kept as a VOD. */
  async execute({ channelId, broadcastId, media, metadata }: StartBroadcastCommand): Promise<{ broadcastId: string; record: boolean }> {
    const { state } = await this.accounts.load(channelId);
    if (state.status !== 'registered') throw new DomainError('unknown_channel', 'no channel with this id');
    const command = { type: 'StartBroadcast', broadcastId, channelId, username: state.username, media, now: new Date() } as const;
    await this.aggregates.broadcasts.handle(channelId, command, metadata);
    return { broadcastId, record: state.recordingEnabled };
  }
}
