/**
 * Migration `2026_12_07_0200_restream_targets`: the `restream_targets` read model (./restream-schema.ts).
 * Append-only: never edit it once applied, add a new migration instead.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';

/** Creates `readmodels.restream_targets`. */
export const restreamMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s
      .createTable('restream_targets')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('enabled', 'boolean', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('broadcast_id', 'uuid')
      .addColumn('state', 'text')
      .addColumn('reason', 'text')
      .addColumn('state_at', 'timestamptz')
      .execute();
    await s.createIndex('restream_targets_channel_idx').on('restream_targets').columns(['channel_id', 'created_at']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.withSchema(READMODELS_SCHEMA).dropTable('restream_targets').ifExists().execute();
  },
};
