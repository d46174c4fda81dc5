import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@eventcast/events';
import type { IntegrationsCommand, IntegrationsState } from '@eventcast/domain';

/** Runs one integrations decider command on the channel's `integrations-<channelId>` stream. */
export class ChangeIntegrationsCommand extends Command<IntegrationsState> {
  constructor(
    readonly channelId: string,
    readonly command: IntegrationsCommand,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
