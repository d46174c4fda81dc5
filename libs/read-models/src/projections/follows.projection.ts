/**
 * `follows` read model: who follows which channel, since when.
 */
import { sql, type Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

/** Net effect of a batch on one (channel, follower). */
interface Folded {
  channelId: string;
  followerId: string;
  /** An unfollow happened in the batch: the stored row (if any) is replaced by `row`, or removed when `row` is null. */
  replace: boolean;
  row: { name: string; at: string } | null;
}

const follows = sql.table(`${READMODELS_SCHEMA}.follows`);

/**
 * Projects ChannelFollowed (new row, `followed_at` = the event's `occurredAt`; a repeat keeps the first) and
 * ChannelUnfollowed (row removed). A batch is folded per (channel, follower) into: insert-if-absent, replace, or
 * delete, i.e. at most three statements.
 */
export class FollowsProjection implements Projection {
  readonly name = 'follows';
  readonly tables = ['follows'];
  readonly handles: readonly EventType[] = ['ChannelFollowed', 'ChannelUnfollowed'];

  /** See {@link Projection.apply}. */
  apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    return this.applyBatch(trx, [event]);
  }

  /** See {@link Projection.applyBatch}. */
  async applyBatch(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<void> {
    const folded = new Map<string, Folded>();
    for (const e of events) {
      if (e.type !== 'ChannelFollowed' && e.type !== 'ChannelUnfollowed') continue;
      const { channelId, followerId, followerName } = e.data;
      const key = `${channelId}/${followerId}`;
      const f = folded.get(key) ?? { channelId, followerId, replace: false, row: null };
      folded.set(key, f);
      if (e.type === 'ChannelUnfollowed') Object.assign(f, { replace: true, row: null });
      else f.row ??= { name: followerName, at: e.occurredAt.toISOString() };
    }
    const all = [...folded.values()];
    const gone = all.filter((f) => f.replace);
    if (gone.length > 0) {
      await sql`DELETE FROM ${follows} AS f USING unnest(${gone.map((f) => f.channelId)}::uuid[], ${gone.map((f) => f.followerId)}::uuid[]) AS g(channel_id, follower_id)
        WHERE f.channel_id = g.channel_id AND f.follower_id = g.follower_id`.execute(trx);
    }
    const rows = all.filter((f) => f.row !== null);
    if (rows.length > 0) {
      await sql`INSERT INTO ${follows} (channel_id, follower_id, follower_name, followed_at)
        SELECT * FROM unnest(${rows.map((f) => f.channelId)}::uuid[], ${rows.map((f) => f.followerId)}::uuid[], ${rows.map((f) => f.row!.name)}::text[], ${rows.map((f) => f.row!.at)}::timestamptz[])
        ON CONFLICT (channel_id, follower_id) DO NOTHING`.execute(trx);
    }
  }
}
