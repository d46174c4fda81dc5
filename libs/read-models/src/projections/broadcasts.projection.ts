/**
 * `broadcasts` read model: one row per broadcast with its media info and, once over, end time and reason.
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

/**
 * Projects BroadcastStarted (new row, `started_at` = the event's `startedAt`) and BroadcastEnded (`ended_at` =
 * its `endedAt`, `end_reason`, `duration_ms`).
 */
export class BroadcastsProjection implements Projection {
  readonly name = 'broadcasts';
  readonly tables = ['broadcasts'];
  readonly handles: readonly EventType[] = ['BroadcastStarted', 'BroadcastEnded'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    switch (event.type) {
      case 'BroadcastStarted': {
        const { broadcastId, channelId, username, startedAt, media } = event.data;
        await trx
          .insertInto('broadcasts')
          .values({ id: broadcastId, channel_id: channelId, username, started_at: new Date(startedAt), media: JSON.stringify(media) })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        return;
      }
      case 'BroadcastEnded': {
        const { broadcastId, reason, endedAt, durationMs } = event.data;
        await trx
          .updateTable('broadcasts')
          .set({ ended_at: new Date(endedAt), end_reason: reason, duration_ms: durationMs })
          .where('id', '=', broadcastId)
          .execute();
        return;
      }
      default:
        return;
    }
  }
}
