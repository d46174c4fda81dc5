import { Command } from '@nestjs/cqrs';
import type { ChannelLatency, LatencyMode } from '@eventcast/contracts';
import type { EventMetadata } from '@eventcast/events';

/** Sets the latency mode of the channel of `accountId` (issue 10 item 2). @returns `{ latencyMode }` after it. */
export class SetLatencyModeCommand extends Command<ChannelLatency> {
  constructor(
    readonly accountId: string,
    readonly latencyMode: LatencyMode,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
