import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Category, idOf } from '@eventcast/events';
import { Aggregates } from '../../core/aggregates.js';
import { EndLiveBroadcastsCommand } from './end-live-broadcasts.command.js';

const PAGE = 1000;

/**
 * Finds the live broadcasts by scanning the global log of the `broadcast` category (O(all broadcast events): fine
 * while small; a projection of live channels would replace it), then ends each with EndLiveBroadcast on fresh state.
 */
@CommandHandler(EndLiveBroadcastsCommand)
export class EndLiveBroadcastsHandler implements ICommandHandler<EndLiveBroadcastsCommand> {
  constructor(private readonly aggregates: Aggregates) {}

  /** @returns how many broadcasts were ended. */
  async execute({ reason, metadata }: EndLiveBroadcastsCommand): Promise<number> {
    let ended = 0;
    for (const channelId of await this.liveChannels()) {
      const { events } = await this.aggregates.broadcasts.handle(channelId, { type: 'EndLiveBroadcast', reason, now: new Date() }, metadata);
      ended += events.length;
    }
    return ended;
  }

  /** Channels (ids of broadcast streams) whose last start/end event is a start. */
  private async liveChannels(): Promise<string[]> {
    const live = new Map<string, boolean>();
    let after = 0n;
    for (;;) {
      const page = await this.aggregates.broadcasts.store.readAll({ after, limit: PAGE, categories: [Category.Broadcast] });
      for (const e of page) {
        if (e.type === 'BroadcastStarted') live.set(e.streamName, true);
        else if (e.type === 'BroadcastEnded') live.set(e.streamName, false);
      }
      const last = page.at(-1);
      if (page.length < PAGE || !last) break;
      after = last.globalPosition;
    }
    return [...live].filter(([, isLive]) => isLive).map(([stream]) => idOf(stream));
  }
}
