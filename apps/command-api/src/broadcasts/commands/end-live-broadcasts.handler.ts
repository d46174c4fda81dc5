import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Category } from '@eventcast/events';
import { broadcastDecider } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { handleCommand } from '../../core/handle-command.js';
import { EVENT_STORE } from '../../core/tokens.js';
import { EndLiveBroadcastsCommand } from './end-live-broadcasts.command.js';

const PAGE = 1000;

/**
 * Finds the live broadcasts by scanning the global log of the `broadcast` category (O(all broadcast events): fine
 * while small; a projection of live channels would replace it), then ends each with EndLiveBroadcast on fresh state.
 */
@CommandHandler(EndLiveBroadcastsCommand)
export class EndLiveBroadcastsHandler implements ICommandHandler<EndLiveBroadcastsCommand> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** @returns how many broadcasts were ended. */
  async execute({ reason, metadata }: EndLiveBroadcastsCommand): Promise<number> {
    let ended = 0;
    for (const stream of await this.liveStreams()) {
      const { events } = await handleCommand(this.store, stream, broadcastDecider, { type: 'EndLiveBroadcast', reason, now: new Date() }, metadata);
      ended += events.length;
    }
    return ended;
  }

  /** Names of broadcast streams whose last start/end event is a start. */
  private async liveStreams(): Promise<string[]> {
    const live = new Map<string, boolean>();
    let after = 0n;
    for (;;) {
      const page = await this.store.readAll({ after, limit: PAGE, categories: [Category.Broadcast] });
      for (const e of page) {
        if (e.type === 'BroadcastStarted') live.set(e.streamName, true);
        else if (e.type === 'BroadcastEnded') live.set(e.streamName, false);
      }
      const last = page.at(-1);
      if (page.length < PAGE || !last) break;
      after = last.globalPosition;
    }
    return [...live].filter(([, isLive]) => isLive).map(([stream]) => stream);
  }
}
