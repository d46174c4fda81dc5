/**
 * `channels` read model: one row per channel with its public info and live state.
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

/**
 * Projects AccountRegistered (new channel, empty title/category), ChannelInfoUpdated (title, category),
 * ChannelLatencyModeChanged (latency mode), ChannelRecordingChanged (whether broadcasts are kept as VODs; true until the first),
 * BroadcastStarted (live, current broadcast, live since = its `startedAt`) and BroadcastEnded (offline, only when it ends the
 * current broadcast, so a late end of an older broadcast never takes a newer one off air).
 */
export class ChannelsProjection implements Projection {
  readonly name = 'channels';
  readonly tables = ['channels'];
  readonly handles: readonly EventType[] = ['AccountRegistered', 'ChannelInfoUpdated', 'ChannelLatencyModeChanged', 'ChannelRecordingChanged', 'BroadcastStarted', 'BroadcastEnded'];

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
      case 'ChannelLatencyModeChanged': {
        const { channelId, username, latencyMode } = event.data;
        await trx
          .insertInto('channels')
          .values({ id: channelId, username, title: '', category: '', live: false, latency_mode: latencyMode, updated_position: position })
          .onConflict((oc) => oc.column('id').doUpdateSet({ latency_mode: latencyMode, updated_position: position }))
          .execute();
        return;
      }
      case 'ChannelRecordingChanged': {
        const { channelId, username, enabled } = event.data;
        await trx
          .insertInto('channels')
          .values({ id: channelId, username, title: '', category: '', live: false, recording_enabled: enabled, updated_position: position })
          .onConflict((oc) => oc.column('id').doUpdateSet({ recording_enabled: enabled, updated_position: position }))
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

  /**
   * See {@link Projection.applyBatch}: runs of AccountRegistered (a rebuild replays thousands in a row) become one
   * multi-row upsert per run of distinct accounts (at most 1000 rows); every other event goes through {@link apply}
   * in order. Same rows as applying one by one.
   */
  async applyBatch(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<void> {
    let run: { id: string; username: string; title: string; category: string; live: boolean; updated_position: bigint }[] = [];
    const ids = new Set<string>();
    const flush = async (): Promise<void> => {
      if (run.length === 0) return;
      await trx
        .insertInto('channels')
        .values(run)
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ username: eb.ref('excluded.username'), updated_position: eb.ref('excluded.updated_position') })))
        .execute();
      run = [];
      ids.clear();
    };
    for (const e of events) {
      if (e.type === 'AccountRegistered') {
        if (ids.has(e.data.accountId) || run.length >= 1000) await flush();
        run.push({ id: e.data.accountId, username: e.data.username, title: '', category: '', live: false, updated_position: e.globalPosition });
        ids.add(e.data.accountId);
      } else {
        await flush();
        await this.apply(trx, e);
      }
    }
    await flush();
  }
}
