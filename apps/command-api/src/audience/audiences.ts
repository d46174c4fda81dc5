/**
 * The audience side's aggregates behind in-memory caches with group commit (core/aggregate-service.ts): the
 * broadcast aggregate of each channel (`broadcast-<channelId>`, read only through the shared {@link Aggregates}: which
 * broadcast is live) and the audience of each broadcast (`audience-<broadcastId>`, written). One instance per process.
 */
import { Inject, Injectable } from '@nestjs/common';
import { streams, type EventData, type EventMetadata } from '@eventcast/events';
import { audienceDecider, DomainError, type AudienceCommand, type AudienceEvent, type AudienceState } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { AggregateService } from '../core/aggregate-service.js';
import { Aggregates } from '../core/aggregates.js';
import { EVENT_STORE } from '../core/tokens.js';

/** Outcome of an audience command: the live broadcast it was recorded on and how many events were appended. */
export interface AudienceOutcome {
  broadcastId: string;
  recorded: number;
}

/** Cached broadcasts (read) and audiences (read/write). */
@Injectable()
export class Audiences {
  private readonly audiences: AggregateService<AudienceCommand, AudienceEvent, AudienceState>;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly shared: Aggregates,
  ) {
    this.audiences = new AggregateService(store, audienceDecider, streams.audience, { cache: { capacity: 1000, maxGroupSize: 100 } });
  }

  /**
   * The live broadcast of `channelId`, read from its broadcast stream (cache caught up with the store).
   * @throws {DomainError} `not_live` when the channel has no live broadcast.
   */
  async liveBroadcast(channelId: string): Promise<string> {
    const { state } = await this.shared.broadcasts.load(channelId);
    if (!state.live) throw new DomainError('not_live', 'the channel is not live');
    return state.live.broadcastId;
  }

  /**
   * Records a viewer-count sample on the channel's live broadcast (a no-op within half an interval of the last one).
   * @throws {DomainError} `not_live`, `invalid_sample`; store errors as is.
   */
  async sample(channelId: string, sample: Omit<EventData<'BroadcastViewersSampled'>, 'broadcastId' | 'channelId'>, metadata: EventMetadata): Promise<AudienceOutcome> {
    const broadcastId = await this.liveBroadcast(channelId);
    const out = await this.audiences.handle(broadcastId, { type: 'RecordSample', sample: { broadcastId, channelId, ...sample } }, metadata);
    return { broadcastId, recorded: out.events.length };
  }

  /**
   * Records the viewer keys not yet seen on the channel's live broadcast.
   * @throws {DomainError} `not_live`; store errors as is.
   */
  async viewersJoined(channelId: string, viewerKeys: readonly string[], metadata: EventMetadata): Promise<AudienceOutcome> {
    const broadcastId = await this.liveBroadcast(channelId);
    const out = await this.audiences.handle(broadcastId, { type: 'RecordViewers', broadcastId, channelId, viewerKeys }, metadata);
    return { broadcastId, recorded: out.events.length };
  }
}
