import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ChannelLatency } from '@eventcast/contracts';
import { streams } from '@eventcast/events';
import { accountDecider, DomainError } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import type { Logger } from '@eventcast/platform';
import { handleCommand } from '../../core/handle-command.js';
import { EVENT_STORE, LOGGER } from '../../core/tokens.js';
import { SetLatencyModeCommand } from './set-latency-mode.command.js';

/**
 * Appends ChannelLatencyModeChanged to `account-<id>` (nothing when the mode is already the current one, so a repeated
 * request is idempotent), re-deciding on a concurrent write.
 * @throws {DomainError} `account_not_found`.
 */
@CommandHandler(SetLatencyModeCommand)
export class SetLatencyModeHandler implements ICommandHandler<SetLatencyModeCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** @returns the channel's latency mode after the command. */
  async execute({ accountId, latencyMode, metadata }: SetLatencyModeCommand): Promise<ChannelLatency> {
    const { state, attempts } = await handleCommand(this.store, streams.account(accountId), accountDecider, { type: 'SetLatencyMode', latencyMode }, metadata);
    if (attempts > 1) this.logger.info({ correlationId: metadata.correlationId, accountId, attempts }, 'SetLatencyMode re-decided after a concurrent write');
    if (state.status !== 'registered') throw new DomainError('account_not_found', 'account does not exist');
    return { latencyMode: state.latencyMode };
  }
}
