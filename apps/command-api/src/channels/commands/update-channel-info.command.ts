import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@eventcast/events';

/** The channel's info after an update. */
export interface ChannelInfo {
  title: string;
  category: string;
}

/** Changes the title and/or category of the channel of `accountId`; omitted fields keep their value. */
export class UpdateChannelInfoCommand extends Command<ChannelInfo> {
  constructor(
    readonly accountId: string,
    readonly title: string | undefined,
    readonly category: string | undefined,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
