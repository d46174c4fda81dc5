/**
 * `vods` read model (issue 11 item 1): one row per broadcast, created when it starts with the title and category the
 * channel had then (the projection folds ChannelInfoUpdated into its own `vod_channels` table, so it reads no other
 * projection's table), a chapter per title change while it is live, its end, and — once BroadcastRecorded says the
 * recording is complete — the VOD's renditions, media timeline, duration, bytes and thumbnail. BroadcastRecordingDeleted
 * removes the row.
 */
import { sql, type Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';
import type { Projection } from './projection.js';
import type { StoredChapter } from '../schema/vod-schema.js';

/** Checkpoint name of {@link VodsProjection}. */
export const VODS_PROJECTION = 'vods';

/**
 * Projects ChannelInfoUpdated (the channel's title and category; a chapter of the live broadcast when it changes
 * them), BroadcastStarted (row with the title at the start as its first chapter), BroadcastEnded (`ended_at`; the
 * channel is off air), BroadcastRecorded (the VOD's media facts; a row is created when the start was never seen) and
 * BroadcastRecordingDeleted (row gone).
 */
export class VodsProjection implements Projection {
  readonly name = VODS_PROJECTION;
  readonly tables = ['vods', 'vod_channels'];
  readonly handles: readonly EventType[] = ['ChannelInfoUpdated', 'BroadcastStarted', 'BroadcastEnded', 'BroadcastRecorded', 'BroadcastRecordingDeleted'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    switch (event.type) {
      case 'ChannelInfoUpdated': {
        const { channelId, title, category } = event.data;
        const before = await trx.selectFrom('vod_channels').selectAll().where('channel_id', '=', channelId).executeTakeFirst();
        await trx
          .insertInto('vod_channels')
          .values({ channel_id: channelId, title, category, live_broadcast_id: null })
          .onConflict((oc) => oc.column('channel_id').doUpdateSet({ title, category }))
          .execute();
        const live = before?.live_broadcast_id ?? null;
        // A chapter only when the update changes what viewers see (an update that repeats the title is no new chapter).
        if (live !== null && (before?.title !== title || before.category !== category)) {
          const chapter: StoredChapter = { at: event.occurredAt.toISOString(), title, category };
          await trx
            .updateTable('vods')
            .set({ chapters: sql<string>`chapters || ${JSON.stringify([chapter])}::jsonb` })
            .where('id', '=', live)
            .execute();
        }
        return;
      }
      case 'BroadcastStarted': {
        const { channelId, username, broadcastId, startedAt } = event.data;
        const info = await trx.selectFrom('vod_channels').select(['title', 'category']).where('channel_id', '=', channelId).executeTakeFirst();
        const title = info?.title ?? '';
        const category = info?.category ?? '';
        await trx
          .insertInto('vod_channels')
          .values({ channel_id: channelId, title, category, live_broadcast_id: broadcastId })
          .onConflict((oc) => oc.column('channel_id').doUpdateSet({ live_broadcast_id: broadcastId }))
          .execute();
        const chapters: StoredChapter[] = [{ at: new Date(startedAt).toISOString(), title, category }];
        await trx
          .insertInto('vods')
          .values({ id: broadcastId, channel_id: channelId, username, title, category, chapters: JSON.stringify(chapters), started_at: new Date(startedAt) })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        return;
      }
      case 'BroadcastEnded': {
        const { channelId, broadcastId, endedAt } = event.data;
        await trx.updateTable('vods').set({ ended_at: new Date(endedAt) }).where('id', '=', broadcastId).execute();
        await trx.updateTable('vod_channels').set({ live_broadcast_id: null }).where('channel_id', '=', channelId).where('live_broadcast_id', '=', broadcastId).execute();
        return;
      }
      case 'BroadcastRecorded': {
        const d = event.data;
        const recording = {
          recorded_at: new Date(d.recordedAt),
          duration_ms: d.durationMs,
          bytes: d.bytes,
          renditions: JSON.stringify(d.renditions),
          timeline: JSON.stringify(d.timeline),
          thumbnail: d.thumbnail,
        };
        // The start was never seen (a log that begins later): the recording's first picture stands in for it.
        const first = d.timeline[0];
        const startedAt = new Date(first ? first.programDateTimeMs : Date.parse(d.recordedAt));
        const last = d.timeline.at(-1);
        const endedAt = last ? new Date(last.programDateTimeMs + last.durationMs) : new Date(d.recordedAt);
        await trx
          .insertInto('vods')
          .values({
            id: d.broadcastId,
            channel_id: d.channelId,
            username: d.username,
            title: '',
            category: '',
            chapters: JSON.stringify([{ at: startedAt.toISOString(), title: '', category: '' } satisfies StoredChapter]),
            started_at: startedAt,
            ended_at: endedAt,
            ...recording,
          })
          .onConflict((oc) => oc.column('id').doUpdateSet(recording))
          .execute();
        return;
      }
      case 'BroadcastRecordingDeleted':
        await trx.deleteFrom('vods').where('id', '=', event.data.broadcastId).execute();
        return;
      default:
        return;
    }
  }
}
