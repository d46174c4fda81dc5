/**
 * Dumps every read-model table of a database in a stable order, to compare a live read model with a rebuild.
 */
import { createReadModelDb } from '../schema/database.js';

/** All rows of every read model plus the checkpoints, each table sorted by its key. */
export async function dumpReadModels(url: string) {
  const { db, root } = createReadModelDb(url, 1);
  try {
    return {
      channels: await db.selectFrom('channels').selectAll().orderBy('id').execute(),
      broadcasts: await db.selectFrom('broadcasts').selectAll().orderBy('id').execute(),
      chatMessages: await db.selectFrom('chat_messages').selectAll().orderBy('global_position').execute(),
      chatRooms: await db.selectFrom('chat_rooms').selectAll().orderBy('channel_id').execute(),
      chatRoles: await db.selectFrom('chat_roles').selectAll().orderBy('channel_id').orderBy('user_id').execute(),
      moderationLog: await db.selectFrom('moderation_log').selectAll().orderBy('global_position').execute(),
      emotes: await db.selectFrom('channel_emotes').selectAll().orderBy('channel_id').orderBy('code').execute(),
      follows: await db.selectFrom('follows').selectAll().orderBy('channel_id').orderBy('follower_id').execute(),
      analyticsBroadcasts: await db.selectFrom('analytics_broadcasts').selectAll().orderBy('broadcast_id').execute(),
      analyticsSamples: await db.selectFrom('analytics_broadcast_samples').selectAll().orderBy('broadcast_id').orderBy('sampled_at').execute(),
      analyticsMinutes: await db.selectFrom('analytics_broadcast_minutes').selectAll().orderBy('broadcast_id').orderBy('minute').execute(),
      analyticsChatters: await db.selectFrom('analytics_broadcast_chatters').selectAll().orderBy('broadcast_id').orderBy('sender_id').execute(),
      analyticsViewers: await db.selectFrom('analytics_broadcast_viewers').selectAll().orderBy('broadcast_id').orderBy('viewer_key').execute(),
      analyticsDays: await db.selectFrom('analytics_channel_days').selectAll().orderBy('channel_id').orderBy('day').execute(),
      analyticsDayViewers: await db.selectFrom('analytics_channel_day_viewers').selectAll().orderBy('channel_id').orderBy('day').orderBy('viewer_key').execute(),
      adminAudit: await db.selectFrom('admin_audit_log').selectAll().orderBy('global_position').execute(),
      restreamTargets: await db.selectFrom('restream_targets').selectAll().orderBy('id').execute(),
      streamHealthSamples: await db.selectFrom('stream_health_samples').selectAll().orderBy('broadcast_id').orderBy('sampled_at').execute(),
      streamHealthLatest: await db.selectFrom('stream_health_latest').selectAll().orderBy('channel_id').execute(),
      publishRefusalsLatest: await db.selectFrom('publish_refusals_latest').selectAll().orderBy('channel_id').execute(),
      vods: await db.selectFrom('vods').selectAll().orderBy('id').execute(),
      vodChannels: await db.selectFrom('vod_channels').selectAll().orderBy('channel_id').execute(),
      clips: await db.selectFrom('clips').selectAll().orderBy('id').execute(),
      checkpoints: await db.selectFrom('projection_checkpoints').select(['name', 'position']).orderBy('name').execute(),
    };
  } finally {
    await root.destroy();
  }
}
