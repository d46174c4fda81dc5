import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '@eventcast/domain';
import type { Logger } from '@eventcast/platform';
import { Aggregates } from '../../core/aggregates.js';
import { LOGGER } from '../../core/tokens.js';
import { UpdateChannelInfoCommand, type ChannelInfo } from './update-channel-info.command.js';

/**
 * Appends ChannelInfoUpdated to `account-<id>` (nothing when unchanged), re-deciding on a concurrent write.
 * @throws {DomainError} `account_not_found`.
 */
@CommandHandler(UpdateChannelInfoCommand)
export class UpdateChannelInfoHandler implements ICommandHandler<UpdateChannelInfoCommand> {
  constructor(
    private readonly aggregates: Aggregates,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** @returns the channel's title and category after the command. */
  async execute({ accountId, title, category, metadata }: UpdateChannelInfoCommand): Promise<ChannelInfo> {
    const { state, attempts } = await this.aggregates.accounts.handle(accountId, { type: 'UpdateChannelInfo', title, category }, metadata);
    if (attempts > 1) this.logger.info({ correlationId: metadata.correlationId, accountId, attempts }, 'UpdateChannelInfo re-decided after a concurrent write');
    if (state.status !== 'registered') throw new DomainError('account_not_found', 'account does not exist');
    return { title: state.title, category: state.category };
  }
}
