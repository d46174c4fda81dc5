/**
 * Migration `2026_11_23_1200_admin_audit` (issue 4 part 6): `readmodels.admin_audit_log`, the account, ingest and
 * integration half of the admin audit trail (see `AdminAuditLogTable` in audit-schema.ts). Append-only: never edit it
 * once applied, add a new migration instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';

/** Creates `admin_audit_log` with a unique index on `global_position` (keyset paging, newest first). */
export const adminAuditMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s
      .createTable('admin_audit_log')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('global_position', 'bigint', (c) => c.notNull().unique())
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'uuid')
      .addColumn('actor_id', 'uuid')
      .addColumn('actor_name', 'text')
      .addColumn('target_id', 'text')
      .addColumn('target_name', 'text')
      .addColumn('reason', 'text')
      .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .execute();
    await s.createIndex('admin_audit_log_category_idx').on('admin_audit_log').columns(['category', 'global_position']).execute();
    // The moderation half of the trail is read across every channel by global position too.
    await s.createIndex('moderation_log_position_idx').on('moderation_log').column('global_position').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s.dropIndex('moderation_log_position_idx').ifExists().execute();
    await s.dropTable('admin_audit_log').ifExists().execute();
  },
};
