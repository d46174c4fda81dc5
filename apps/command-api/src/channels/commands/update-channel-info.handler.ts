import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streams } from '@eventcast/events';
import { accountDecider, DomainError } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import type { Logger } from '@eventcast/platform';
import { handleCommand } from '../../core/handle-command.js';
import { EVENT_STORE, LOGGER } from '../../core/tokens.js';
import { UpdateChannelInfoCommand, type ChannelInfo } from './update-channel-info.command.js';

/**
 * Appends ChannelInfoUpdated to `account-<id>` (nothing when unchanged), re-deciding on a concurrent write.
 * @throws {DomainError} `account_not_found`.
 */
@CommandHandler(UpdateChannelInfoCommand)
export class UpdateChannelInfoHandler implements ICommandHandler<UpdateChannelInfoCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** @returns the channel's title and category after the command. */
  async execute({ accountId, title, category, metadata }: UpdateChannelInfoCommand): Promise<ChannelInfo> {
    const { state, attempts } = await handleCommand(
      this.store,
      streams.account(accountId),
      accountDecider,
      { type: 'UpdateChannelInfo', title, category },
      metadata,
    );
    if (attempts > 1) this.logger.info({ correlationId: metadata.correlationId, accountId, attempts }, 'UpdateChannelInfo re-decided after a concurrent write');
    if (state.status !== 'registered') throw new DomainError('account_not_found', 'account does not exist');
    return { title: state.title, category: state.category };
  }
}
