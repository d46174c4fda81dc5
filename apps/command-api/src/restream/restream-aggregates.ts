/**
 * The channels' restream aggregates (`restream-<channelId>`, issue 10 item 7) behind the cache + group-commit loop of
 * core/aggregate-service.ts, like the integrations: `load` reads the events appended after the cached revision. The
 * channels' broadcasts (`broadcast-<channelId>`, read only, through the shared {@link Aggregates}) tell which
 * broadcast is live, for the ingest's state reports.
 */
import { Inject, Injectable } from '@nestjs/common';
import { streams, type EventMetadata } from '@eventcast/events';
import { restreamDecider, type RestreamCommand, type RestreamEvent, type RestreamState } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { AggregateService, type CommandOutcome } from '../core/aggregate-service.js';
import { Aggregates } from '../core/aggregates.js';
import { EVENT_STORE } from '../core/tokens.js';

/** Channels whose restream targets stay cached (LRU). */
export const RESTREAM_CACHE_CAPACITY = 1000;

/** Cached restream aggregates. One instance per process. */
@Injectable()
export class RestreamAggregates {
  private readonly aggregates: AggregateService<RestreamCommand, RestreamEvent, RestreamState>;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly shared: Aggregates,
  ) {
    this.aggregates = new AggregateService(store, restreamDecider, streams.restream, { cache: { capacity: RESTREAM_CACHE_CAPACITY } });
  }

  /** The id of the channel's live broadcast, or null when it is off air. @throws store errors. */
  async liveBroadcastId(channelId: string): Promise<string | null> {
    return (await this.shared.broadcasts.load(channelId)).state.live?.broadcastId ?? null;
  }

  /** The current restream targets of `channelId`. @throws store/validation errors. */
  async load(channelId: string): Promise<RestreamState> {
    return (await this.aggregates.load(channelId)).state;
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
    return this.aggregates.handle(channelId, command, metadata);
  }
}
