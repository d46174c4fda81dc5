/**
 * Migration `2026_11_23_0900_projection_status` (issue 4): `readmodels.projection_status`, written by the live
 * projector (its last failure) and by the operator CLI (rebuild progress), read by `eventcast-ops projections status`.
 * Append-only: never edit it once applied, add a new migration instead.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';

/** Creates `projection_status` (see `ProjectionStatusTable` in schema.ts). */
export const projectionStatusMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .withSchema(READMODELS_SCHEMA)
      .createTable('projection_status')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('live_error', 'text')
      .addColumn('live_failed_at', 'timestamptz')
      .addColumn('rebuild_state', 'text')
      .addColumn('rebuild_error', 'text')
      .addColumn('rebuild_position', 'bigint')
      .addColumn('rebuild_head', 'bigint')
      .addColumn('rebuild_events_per_second', 'double precision')
      .addColumn('rebuild_started_at', 'timestamptz')
      .addColumn('rebuild_updated_at', 'timestamptz')
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.withSchema(READMODELS_SCHEMA).dropTable('projection_status').ifExists().execute();
  },
};
