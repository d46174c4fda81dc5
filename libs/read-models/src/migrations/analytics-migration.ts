/**
 * Migration `2026_11_23_1000_analytics` (issue 4): the analytics read models (see analytics-schema.ts). Append-only:
 * never edit it once applied, add a new migration instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';

/** Creates the analytics tables and their indexes. */
export const analyticsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s
      .createTable('analytics_broadcasts')
      .addColumn('broadcast_id', 'uuid', (c) => c.primaryKey())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('ended_at', 'timestamptz')
      .addColumn('duration_ms', 'bigint')
      .addColumn('peak_viewers', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('peak_at', 'timestamptz')
      .addColumn('avg_viewers', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('viewer_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('samples', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('first_sample_at', 'timestamptz')
      .addColumn('last_sample_at', 'timestamptz')
      .addColumn('last_sample_viewers', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_sample_interval_s', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('unique_viewers', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('messages', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('new_followers', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('accounted_until', 'timestamptz', (c) => c.notNull())
      .execute();
    await s.createIndex('analytics_broadcasts_channel_idx').on('analytics_broadcasts').columns(['channel_id', 'started_at']).execute();
    await sql`CREATE INDEX analytics_broadcasts_live_idx ON ${sql.table(`${READMODELS_SCHEMA}.analytics_broadcasts`)} (channel_id) WHERE ended_at IS NULL`.execute(db);
    await s
      .createTable('analytics_broadcast_samples')
      .addColumn('broadcast_id', 'uuid', (c) => c.notNull())
      .addColumn('sampled_at', 'timestamptz', (c) => c.notNull())
      .addColumn('viewers', 'integer', (c) => c.notNull())
      .addColumn('chatters', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('analytics_broadcast_samples_pk', ['broadcast_id', 'sampled_at'])
      .execute();
    await s
      .createTable('analytics_broadcast_minutes')
      .addColumn('broadcast_id', 'uuid', (c) => c.notNull())
      .addColumn('minute', 'timestamptz', (c) => c.notNull())
      .addColumn('messages', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('analytics_broadcast_minutes_pk', ['broadcast_id', 'minute'])
      .execute();
    await s
      .createTable('analytics_broadcast_chatters')
      .addColumn('broadcast_id', 'uuid', (c) => c.notNull())
      .addColumn('sender_id', 'uuid', (c) => c.notNull())
      .addColumn('sender_name', 'text', (c) => c.notNull())
      .addColumn('messages', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('analytics_broadcast_chatters_pk', ['broadcast_id', 'sender_id'])
      .execute();
    await sql`CREATE INDEX analytics_broadcast_chatters_top_idx ON ${sql.table(`${READMODELS_SCHEMA}.analytics_broadcast_chatters`)} (broadcast_id, messages DESC, sender_name)`.execute(db);
    await s
      .createTable('analytics_broadcast_viewers')
      .addColumn('broadcast_id', 'uuid', (c) => c.notNull())
      .addColumn('viewer_key', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('analytics_broadcast_viewers_pk', ['broadcast_id', 'viewer_key'])
      .execute();
    await s
      .createTable('analytics_channel_days')
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('day', 'date', (c) => c.notNull())
      .addColumn('broadcasts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('live_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('peak_viewers', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('unique_viewers', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('messages', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('new_followers', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('analytics_channel_days_pk', ['channel_id', 'day'])
      .execute();
    await s.createIndex('analytics_channel_days_day_idx').on('analytics_channel_days').columns(['day']).execute();
    await s
      .createTable('analytics_channel_day_viewers')
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('day', 'date', (c) => c.notNull())
      .addColumn('viewer_key', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('analytics_channel_day_viewers_pk', ['channel_id', 'day', 'viewer_key'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    for (const t of [
      'analytics_channel_day_viewers',
      'analytics_channel_days',
      'analytics_broadcast_viewers',
      'analytics_broadcast_chatters',
      'analytics_broadcast_minutes',
      'analytics_broadcast_samples',
      'analytics_broadcasts',
    ]) {
      await s.dropTable(t).ifExists().execute();
    }
  },
};
