/**
 * Migration `2026_12_07_0300_recordings` (issue 11): the VOD and clip read models (./vod-schema.ts), the channel's
 * recording setting (`channels.recording_enabled`) and the indexes of chat replay: `chat_messages (channel_id,
 * visible_at, id)` (a replay page is one range scan of it) and a partial index of the bans and timeouts in
 * `moderation_log` by target (which messages a ban or timeout took away while live). Append-only: never edit it once
 * applied, add a new migration instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';

const t = (name: string) => sql.table(`${READMODELS_SCHEMA}.${name}`);

/** Creates `vods`, `vod_channels`, `clips`, adds `channels.recording_enabled` and the replay indexes. */
export const recordingsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s.alterTable('channels').addColumn('recording_enabled', 'boolean', (c) => c.notNull().defaultTo(true)).execute();
    await s
      .createTable('vod_channels')
      .addColumn('channel_id', 'uuid', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('live_broadcast_id', 'uuid')
      .execute();
    await s
      .createTable('vods')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('chapters', 'jsonb', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('ended_at', 'timestamptz')
      .addColumn('recorded_at', 'timestamptz')
      .addColumn('duration_ms', 'bigint')
      .addColumn('bytes', 'bigint')
      .addColumn('renditions', 'jsonb')
      .addColumn('timeline', 'jsonb')
      .addColumn('thumbnail', 'boolean', (c) => c.notNull().defaultTo(false))
      .execute();
    await sql`CREATE INDEX vods_channel_recorded_idx ON ${t('vods')} (channel_id, started_at DESC, id DESC) WHERE recorded_at IS NOT NULL`.execute(db);
    await s
      .createTable('clips')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('broadcast_id', 'uuid', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('created_by', 'uuid', (c) => c.notNull())
      .addColumn('created_by_name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('start_offset_ms', 'bigint', (c) => c.notNull())
      .addColumn('duration_ms', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('from_live', 'boolean', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .execute();
    await sql`CREATE INDEX clips_channel_created_idx ON ${t('clips')} (channel_id, created_at DESC, id DESC)`.execute(db);
    await sql`CREATE INDEX chat_messages_channel_visible_idx ON ${t('chat_messages')} (channel_id, visible_at, id)`.execute(db);
    await sql`CREATE INDEX moderation_log_removals_idx ON ${t('moderation_log')} (channel_id, target_id, global_position)
      WHERE action IN ('user_banned', 'user_timed_out')`.execute(db);
    await sql`CREATE INDEX moderation_log_channel_at_idx ON ${t('moderation_log')} (channel_id, at)`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s.dropIndex('moderation_log_channel_at_idx').ifExists().execute();
    await s.dropIndex('moderation_log_removals_idx').ifExists().execute();
    await s.dropIndex('chat_messages_channel_visible_idx').ifExists().execute();
    for (const name of ['clips', 'vods', 'vod_channels']) await s.dropTable(name).ifExists().execute();
    await s.alterTable('channels').dropColumn('recording_enabled').execute();
  },
};
