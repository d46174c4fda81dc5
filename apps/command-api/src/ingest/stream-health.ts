/**
 * Stream health on the command side (issue 10 item 5, docs/contracts.md "Stream health"): records the ingest's
 * samples as `BroadcastHealthSampled` on `health-<broadcastId>` (only for the channel's live broadcast, read from the
 * cached `broadcast-<channelId>` aggregate) and refused inputs as `PublishInputRefused` on `ingest-<channelId>`.
 * One instance per process.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { HealthSampleRequest, InputRefusedRequest } from '@eventcast/contracts';
import { newEvent, streams, type EventMetadata } from '@eventcast/events';
import {
  broadcastDecider,
  broadcastHealthDecider,
  type BroadcastCommand,
  type BroadcastEvent,
  type BroadcastHealthCommand,
  type BroadcastHealthEvent,
  type BroadcastHealthState,
  type BroadcastState,
} from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { CachedAggregates } from '../core/cached-aggregates.js';
import { EVENT_STORE } from '../core/tokens.js';

/** Events appended by one command (0 for a duplicate sample). */
export interface HealthOutcome {
  recorded: number;
}

/** Cached broadcasts (read) and broadcast-health streams (read/write). */
@Injectable()
export class StreamHealthRecorder {
  private readonly broadcasts: CachedAggregates<BroadcastCommand, BroadcastEvent, BroadcastState>;
  private readonly health: CachedAggregates<BroadcastHealthCommand, BroadcastHealthEvent, BroadcastHealthState>;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {
    this.broadcasts = new CachedAggregates(store, broadcastDecider, { capacity: 1000 });
    this.health = new CachedAggregates(store, broadcastHealthDecider, { capacity: 1000, maxGroupSize: 20 });
  }

  /**
   * Records one sample of a live broadcast.
   * @throws {DomainError} `not_live` when `sample.broadcastId` is not the channel's live broadcast; store errors as is.
   */
  async sample(sample: HealthSampleRequest, metadata: EventMetadata): Promise<HealthOutcome> {
    const out = await this.health.handle(
      streams.broadcastHealth(sample.broadcastId),
      async () => {
        const { state } = await this.broadcasts.load(streams.broadcast(sample.channelId));
        return { type: 'RecordHealthSample', liveBroadcastId: state.live?.broadcastId ?? null, sample };
      },
      metadata,
    );
    return { recorded: out.events.length };
  }

  /** Records a publish the ingest refused for its media. @throws store errors as is. */
  async inputRefused(refusal: InputRefusedRequest, metadata: EventMetadata): Promise<HealthOutcome> {
    await this.store.append(streams.ingest(refusal.channelId), [newEvent('PublishInputRefused', refusal, metadata)], 'any');
    return { recorded: 1 };
  }
}
