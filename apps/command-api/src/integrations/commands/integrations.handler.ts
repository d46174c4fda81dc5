import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { IntegrationsState } from '@eventcast/domain';
import { IntegrationsAggregates } from '../integrations-aggregates.js';
import { ChangeIntegrationsCommand } from './integrations.command.js';

/**
 * Decides an integrations command on the channel's aggregate and appends its events.
 * @returns the state after the command. @throws {DomainError} the decider's refusals.
 */
@CommandHandler(ChangeIntegrationsCommand)
export class ChangeIntegrationsHandler implements ICommandHandler<ChangeIntegrationsCommand> {
  constructor(private readonly aggregates: IntegrationsAggregates) {}

  async execute({ channelId, command, metadata }: ChangeIntegrationsCommand): Promise<IntegrationsState> {
    return (await this.aggregates.handle(channelId, command, metadata)).state;
  }
}
