/**
 * Stream-health read models (issue 10 item 5), from `BroadcastHealthSampled` and `PublishInputRefused`:
 * - `stream_health_samples`: every sample, per broadcast (the series analytics and the VOD page read later);
 * - `stream_health_latest`: the newest sample per channel (a later `sampledAt` replaces it; an older one does not);
 * - `publish_refusals_latest`: the last publish refused for its media, per channel (the same rule on `refusedAt`).
 * Rows depend only on the events, so a rebuild writes the same rows.
 */
import type { Transaction } from 'kysely';
import type { StreamHealthMeasures } from '@eventcast/contracts';
import type { EventData, EventType, RecordedDomainEvent } from '@eventcast/events';
import { STREAM_HEALTH_TABLES } from '../schema/stream-health-schema.js';
import type { DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

/** The measured part of a sample event (without its ids). */
export function measuresOf(data: EventData<'BroadcastHealthSampled'>): StreamHealthMeasures {
  const { channelId: _c, broadcastId: _b, ...measures } = data;
  return measures;
}

/** See the module comment. */
export class StreamHealthProjection implements Projection {
  readonly name = 'stream-health';
  readonly tables: readonly string[] = STREAM_HEALTH_TABLES;
  readonly handles: readonly EventType[] = ['BroadcastHealthSampled', 'PublishInputRefused'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    switch (event.type) {
      case 'BroadcastHealthSampled': {
        const d = event.data;
        const measures = JSON.stringify(measuresOf(d));
        const sampledAt = new Date(d.sampledAt);
        await trx
          .insertInto('stream_health_samples')
          .values({ broadcast_id: d.broadcastId, sampled_at: sampledAt, channel_id: d.channelId, measures })
          .onConflict((oc) => oc.columns(['broadcast_id', 'sampled_at']).doNothing())
          .execute();
        await trx
          .insertInto('stream_health_latest')
          .values({ channel_id: d.channelId, broadcast_id: d.broadcastId, sampled_at: sampledAt, measures })
          .onConflict((oc) =>
            oc
              .column('channel_id')
              .doUpdateSet((eb) => ({ broadcast_id: eb.ref('excluded.broadcast_id'), sampled_at: eb.ref('excluded.sampled_at'), measures: eb.ref('excluded.measures') }))
              .whereRef('stream_health_latest.sampled_at', '<', 'excluded.sampled_at'),
          )
          .execute();
        return;
      }
      case 'PublishInputRefused': {
        const d = event.data;
        await trx
          .insertInto('publish_refusals_latest')
          .values({ channel_id: d.channelId, reason: d.reason, video_codec: d.videoCodec, audio_codec: d.audioCodec, refused_at: new Date(d.refusedAt) })
          .onConflict((oc) =>
            oc
              .column('channel_id')
              .doUpdateSet((eb) => ({
                reason: eb.ref('excluded.reason'),
                video_codec: eb.ref('excluded.video_codec'),
                audio_codec: eb.ref('excluded.audio_codec'),
                refused_at: eb.ref('excluded.refused_at'),
              }))
              .whereRef('publish_refusals_latest.refused_at', '<', 'excluded.refused_at'),
          )
          .execute();
        return;
      }
      default:
        return;
    }
  }
}
