/**
 * The channels' restream aggregates (`restream-<channelId>`, issue 10 item 7) behind the cache + group-commit loop of
 * core/cached-aggregates.ts, like the integrations: `load` reads the events appended after the cached revision.
 */
import { Inject, Injectable } from '@nestjs/common';
import { streams, type EventMetadata } from '@eventcast/events';
import { restreamDecider, type RestreamCommand, type RestreamEvent, type RestreamState } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { CachedAggregates } from '../core/cached-aggregates.js';
import type { CommandOutcome } from '../core/handle-command.js';
import { EVENT_STORE } from '../core/tokens.js';

/** Channels whose restream targets stay cached (LRU). */
export const RESTREAM_CACHE_CAPACITY = 1000;

/** Cached restream aggregates. One instance per process. */
@Injectable()
export class RestreamAggregates {
  private readonly aggregates: CachedAggregates<RestreamCommand, RestreamEvent, RestreamState>;

  constructor(@Inject(EVENT_STORE) store: EventStore) {
    this.aggregates = new CachedAggregates(store, restreamDecider, { capacity: RESTREAM_CACHE_CAPACITY });
  }

  /** The current restream targets of `channelId`. @throws store/validation errors. */
  async load(channelId: string): Promise<RestreamState> {
    return (await this.aggregates.load(streams.restream(channelId))).state;
  }

  /**
   * Decides `command` on the channel's current state and appends its events.
   * @throws {DomainError} the decider's refusals (see `restreamDecider`).
   */
  handle(channelId: string, command: RestreamCommand, metadata: EventMetadata): Promise<CommandOutcome<RestreamEvent, RestreamState>> {
    return this.aggregates.handle(streams.restream(channelId), () => command, metadata);
  }
}
