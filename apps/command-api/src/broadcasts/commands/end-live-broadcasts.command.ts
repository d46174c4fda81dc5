import { Command } from '@nestjs/cqrs';
import type { BroadcastEndReason, EventMetadata } from '@eventcast/events';

/** Ends every broadcast that is live (an ingest node restarted). Resolves to the number ended. */
export class EndLiveBroadcastsCommand extends Command<number> {
  constructor(
    readonly reason: BroadcastEndReason,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
