/**
 * Stream health on the command side (issue 10 item 5, docs/contracts.md "Stream health"): records the ingest's
 * samples as `BroadcastHealthSampled` on `health-<broadcastId>` (only for the channel's live broadcast, read from the
 * cached `broadcast-<channelId>` aggregate of the shared {@link Aggregates}) and refused inputs as `PublishInputRefused` on `ingest-<channelId>`, at most
 * one per channel, reason and codecs in each {@link INPUT_REFUSAL_DEDUP_SECONDS} window of `refusedAt` (an encoder in a
 * reconnect loop must not grow the stream without limit). One instance per process.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { HealthSampleRequest, InputRefusedRequest } from '@eventcast/contracts';
import { newEvent, streams, type EventMetadata } from '@eventcast/events';
import { broadcastHealthDecider, type BroadcastHealthCommand, type BroadcastHealthEvent, type BroadcastHealthState } from '@eventcast/domain';
import { DuplicateEventIdError, type EventStore } from '@eventcast/event-store';
import { AggregateService } from '../core/aggregate-service.js';
import { Aggregates } from '../core/aggregates.js';
import { EVENT_STORE } from '../core/tokens.js';
import { nameBasedUuid } from '../idempotency/command-ids.js';

/** Window (seconds, aligned to the epoch) within which an identical refused input is recorded once. */
export const INPUT_REFUSAL_DEDUP_SECONDS = 60;

/** Events appended by one command (0 for a duplicate sample). */
export interface HealthOutcome {
  recorded: number;
}

/** Cached broadcasts (read) and broadcast-health streams (read/write). */
@Injectable()
export class StreamHealthRecorder {
  private readonly health: AggregateService<BroadcastHealthCommand, BroadcastHealthEvent, BroadcastHealthState>;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly shared: Aggregates,
  ) {
    this.health = new AggregateService(store, broadcastHealthDecider, streams.broadcastHealth, { cache: { capacity: 1000, maxGroupSize: 20 } });
  }

  /**
   * Records one sample of a live broadcast.
   * @throws {DomainError} `not_live` when `sample.broadcastId` is not the channel's live broadcast; store errors as is.
   */
  async sample(sample: HealthSampleRequest, metadata: EventMetadata): Promise<HealthOutcome> {
    const out = await this.health.handle(
      sample.broadcastId,
      async () => {
        const { state } = await this.shared.broadcasts.load(sample.channelId);
        return { type: 'RecordHealthSample', liveBroadcastId: state.live?.broadcastId ?? null, sample };
      },
      metadata,
    );
    return { recorded: out.events.length };
  }

  /**
   * Records a publish the ingest refused for its media, unless an identical refusal (same channel, reason and codecs)
   * was recorded in the same {@link INPUT_REFUSAL_DEDUP_SECONDS}-second window of `refusedAt`: the event id is derived
   * from those (name-based UUID), so the store's unique event ids drop the repeat, across command-api replicas too.
   * @returns `{ recorded: 1 }`, or `{ recorded: 0 }` for a repeat. @throws store errors as is.
   */
  async inputRefused(refusal: InputRefusedRequest, metadata: EventMetadata): Promise<HealthOutcome> {
    const window = Math.floor(Date.parse(refusal.refusedAt) / (INPUT_REFUSAL_DEDUP_SECONDS * 1000));
    const id = nameBasedUuid('eventcast-input-refused', refusal.channelId, refusal.reason, refusal.videoCodec ?? '', refusal.audioCodec ?? '', String(window));
    try {
      await this.store.append(streams.ingest(refusal.channelId), [{ ...newEvent('PublishInputRefused', refusal, metadata), id }], 'any');
    } catch (err) {
      if (err instanceof DuplicateEventIdError) return { recorded: 0 };
      throw err;
    }
    return { recorded: 1 };
  }
}
