/**
 * `channels` read model: one row per channel with its public info and live state.
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../database/schema.js';
import type { Projection } from './projection.js';

/**
 * Projects AccountRegistered (new channel, empty title/category), ChannelInfoUpdated (title, category),
 * BroadcastStarted (live, current broadcast, live since = its `startedAt`) and BroadcastEnded (offline, only when it ends the
 * current broadcast, so a late end of an older broadcast never takes a newer one off air).
 */
export class ChannelsProjection implements Projection {
  readonly name = 'channels';
  readonly handles: readonly EventType[] = ['AccountRegistered', 'ChannelInfoUpdated', 'BroadcastStarted', 'BroadcastEnded'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    const position = event.globalPosition;
    switch (event.type) {
      case 'AccountRegistered': {
        const { accountId, username } = event.data;
        await trx
          .insertInto('channels')
          .values({ id: accountId, username, title: '', category: '', live: false, updated_position: position })
          .onConflict((oc) => oc.column('id').doUpdateSet({ username, updated_position: position }))
          .execute();
        return;
      }
      case 'ChannelInfoUpdated': {
        const { channelId, username, title, category } = event.data;
        await trx
          .insertInto('channels')
          .values({ id: channelId, username, title, category, live: false, updated_position: position })
          .onConflict((oc) => oc.column('id').doUpdateSet({ title, category, updated_position: position }))
          .execute();
        return;
      }
      case 'BroadcastStarted': {
        const { channelId, username, broadcastId, startedAt } = event.data;
        const live = { live: true, current_broadcast_id: broadcastId, live_since: new Date(startedAt), updated_position: position };
        await trx
          .insertInto('channels')
          .values({ id: channelId, username, title: '', category: '', ...live })
          .onConflict((oc) => oc.column('id').doUpdateSet(live))
          .execute();
        return;
      }
      case 'BroadcastEnded': {
        const { channelId, broadcastId, endedAt } = event.data;
        await trx
          .updateTable('channels')
          .set({
            live: false,
            current_broadcast_id: null,
            live_since: null,
            last_broadcast_ended_at: new Date(endedAt),
            updated_position: position,
          })
          .where('id', '=', channelId)
          .where('current_broadcast_id', '=', broadcastId)
          .execute();
        return;
      }
      default:
        return;
    }
  }
}
