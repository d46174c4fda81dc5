/**
 * `clips` read model (issue 11 item 5): one row per clip from ClipCreated, removed by ClipDeleted.
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

/** Checkpoint name of {@link ClipsProjection}. */
export const CLIPS_PROJECTION = 'clips';

/** Projects ClipCreated (row; `created_at` = the event's `occurredAt`) and ClipDeleted (row gone). */
export class ClipsProjection implements Projection {
  readonly name = CLIPS_PROJECTION;
  readonly tables = ['clips'];
  readonly handles: readonly EventType[] = ['ClipCreated', 'ClipDeleted'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    if (event.type === 'ClipCreated') {
      const d = event.data;
      await trx
        .insertInto('clips')
        .values({
          id: d.clipId,
          channel_id: d.channelId,
          username: d.username,
          broadcast_id: d.broadcastId,
          title: d.title,
          created_by: d.createdBy,
          created_by_name: d.createdByName,
          created_at: event.occurredAt,
          start_offset_ms: d.startOffsetMs,
          duration_ms: d.durationMs,
          started_at: new Date(d.startedAt),
          from_live: d.fromLive,
          bytes: d.bytes,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    } else if (event.type === 'ClipDeleted') {
      await trx.deleteFrom('clips').where('id', '=', event.data.clipId).execute();
    }
  }
}
