/**
 * Migration `2026_12_07_0100_stream_health` (issue 10 item 5): the stream-health read models (see
 * stream-health-schema.ts). Append-only: never edit it once applied, add a new migration instead.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';

/** Creates the stream-health tables. */
export const streamHealthMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s
      .createTable('stream_health_samples')
      .addColumn('broadcast_id', 'uuid', (c) => c.notNull())
      .addColumn('sampled_at', 'timestamptz', (c) => c.notNull())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('measures', 'jsonb', (c) => c.notNull())
      .addPrimaryKeyConstraint('stream_health_samples_pk', ['broadcast_id', 'sampled_at'])
      .execute();
    await s
      .createTable('stream_health_latest')
      .addColumn('channel_id', 'uuid', (c) => c.primaryKey())
      .addColumn('broadcast_id', 'uuid', (c) => c.notNull())
      .addColumn('sampled_at', 'timestamptz', (c) => c.notNull())
      .addColumn('measures', 'jsonb', (c) => c.notNull())
      .execute();
    await s
      .createTable('publish_refusals_latest')
      .addColumn('channel_id', 'uuid', (c) => c.primaryKey())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('video_codec', 'text')
      .addColumn('audio_codec', 'text')
      .addColumn('refused_at', 'timestamptz', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s.dropTable('publish_refusals_latest').ifExists().execute();
    await s.dropTable('stream_health_latest').ifExists().execute();
    await s.dropTable('stream_health_samples').ifExists().execute();
  },
};
