/**
 * Migration `2026_12_07_0001_channel_latency_mode` (issue 10 item 2): `channels.latency_mode`, the mode of the last
 * ChannelLatencyModeChanged (`low` for channels that never chose one: `DEFAULT_LATENCY_MODE` of `@eventcast/contracts`
 * when this migration was written). Append-only: never edit it once applied, add a new migration instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';

/** Adds `channels.latency_mode text NOT NULL DEFAULT 'low'`, limited to the modes of `latencyModeSchema`. */
export const channelLatencyModeMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .withSchema(READMODELS_SCHEMA)
      .alterTable('channels')
      .addColumn('latency_mode', 'text', (c) => c.notNull().defaultTo('low').check(sql`latency_mode IN ('low', 'smooth')`))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.withSchema(READMODELS_SCHEMA).alterTable('channels').dropColumn('latency_mode').execute();
  },
};
