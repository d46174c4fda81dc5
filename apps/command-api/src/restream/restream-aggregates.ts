/**
 * The channels' restream aggregates (`restream-<channelId>`, issue 10 item 7) behind the cache + group-commit loop of
 * core/cached-aggregates.ts, like the integrations: `load` reads the events appended after the cached revision. The
 * channels' broadcasts (`broadcast-<channelId>`, read only) tell which broadcast is live, for the ingest's state reports.
 */
import { Inject, Injectable } from '@nestjs/common';
import { streams, type EventMetadata } from '@eventcast/events';
import { broadcastDecider, restreamDecider, type BroadcastCommand, type BroadcastEvent, type BroadcastState, type RestreamCommand, type RestreamEvent, type RestreamState } from '@eventcast/domain';
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
  private readonly broadcasts: CachedAggregates<BroadcastCommand, BroadcastEvent, BroadcastState>;

  constructor(@Inject(EVENT_STORE) store: EventStore) {
    this.aggregates = new CachedAggregates(store, restreamDecider, { capacity: RESTREAM_CACHE_CAPACITY });
    this.broadcasts = new CachedAggregates(store, broadcastDecider, { capacity: RESTREAM_CACHE_CAPACITY });
  }

  /** The id of the channel's live broadcast, or null when it is off air. @throws store errors. */
  async liveBroadcastId(channelId: string): Promise<string | null> {
    return (await this.broadcasts.load(streams.broadcast(channelId))).state.live?.broadcastId ?? null;
  }

  /** The current restream targets of `channelId`. @throws store/validation errors. */
  async load(channelId: string): Promise<RestreamState> {
    return (await this.aggregates.load(streams.restream(channelId))).state;
  }

  /**
   * Decides `command` (or the command built from the channel's current state, e.g. to redact a reason with the
   * target's key) on the channel's current state and appends its events.
   * @throws {DomainError} the decider's refusals (see `restreamDecider`).
   */
  handle(
    channelId: string,
    command: RestreamCommand | ((state: RestreamState) => RestreamCommand | Promise<RestreamCommand>),
    metadata: EventMetadata,
  ): Promise<CommandOutcome<RestreamEvent, RestreamState>> {
    return this.aggregates.handle(streams.restream(channelId), typeof command === 'function' ? command : () => command, metadata);
  }
}
