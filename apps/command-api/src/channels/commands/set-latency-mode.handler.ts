import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ChannelLatency } from '@eventcast/contracts';
import { DomainError } from '@eventcast/domain';
import type { Logger } from '@eventcast/platform';
import { Aggregates } from '../../core/aggregates.js';
import { LOGGER } from '../../core/tokens.js';
import { SetLatencyModeCommand } from './set-latency-mode.command.js';

/**
 * Appends ChannelLatencyModeChanged to `account-<id>` (nothing when the mode is already the current one, so a repeated
 * request is idempotent), re-deciding on a concurrent write.
 * @throws {DomainError} `account_not_found`.
 */
@CommandHandler(SetLatencyModeCommand)
export class SetLatencyModeHandler implements ICommandHandler<SetLatencyModeCommand> {
  constructor(
    private readonly aggregates: Aggregates,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** @returns the channel's latency mode after the command. */
  async execute({ accountId, latencyMode, metadata }: SetLatencyModeCommand): Promise<ChannelLatency> {
    const { state, attempts } = await this.aggregates.accounts.handle(accountId, { type: 'SetLatencyMode', latencyMode }, metadata);
    if (attempts > 1) this.logger.info({ correlationId: metadata.correlationId, accountId, attempts }, 'SetLatencyMode re-decided after a concurrent write');
    if (state.status !== 'registered') throw new DomainError('account_not_found', 'account does not exist');
    return { latencyMode: state.latencyMode };
  }
}
