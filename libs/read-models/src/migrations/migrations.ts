/**
 * Read-model migrations, in code (no file-system provider: works the same from `src` and `dist`).
 * Run at start by {@link migrateReadModels}; Kysely's migrator takes a lock and skips applied migrations,
 * so running it on every start, from several processes at once, is safe.
 */
import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import { analyticsMigration } from './analytics-migration.js';
import { adminAuditMigration } from './audit-migration.js';
import { chatMigration } from './chat-migration.js';
import { channelLatencyModeMigration } from './latency-mode-migration.js';
import { integrationsMigration } from './integrations-migration.js';
import { projectionStatusMigration } from './projection-status-migration.js';
import { restreamMigration } from './restream-migration.js';
import { recordingsMigration } from './vod-migration.js';
import { READMODELS_SCHEMA } from '../schema/schema.js';
import { streamHealthMigration } from './stream-health-migration.js';

/** Migrations by name; names sort in application order. Never edit an applied one: add a new one. */
export const readModelMigrations: Record<string, Migration> = {
  '2026_11_22_0001_channels_broadcasts_checkpoints': {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema.withSchema(READMODELS_SCHEMA);
      await s
        .createTable('channels')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('category', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('live', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('current_broadcast_id', 'uuid')
        .addColumn('live_since', 'timestamptz')
        .addColumn('last_broadcast_ended_at', 'timestamptz')
        .addColumn('updated_position', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('channels_live_idx').on('channels').columns(['live', 'live_since']).execute();
      await s
        .createTable('broadcasts')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('channel_id', 'uuid', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('started_at', 'timestamptz', (c) => c.notNull())
        .addColumn('ended_at', 'timestamptz')
        .addColumn('end_reason', 'text')
        .addColumn('duration_ms', 'bigint')
        .addColumn('media', 'jsonb', (c) => c.notNull())
        .execute();
      await s.createIndex('broadcasts_channel_idx').on('broadcasts').columns(['channel_id', 'started_at']).execute();
      await s
        .createTable('projection_checkpoints')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      const s = db.schema.withSchema(READMODELS_SCHEMA);
      await s.dropTable('projection_checkpoints').ifExists().execute();
      await s.dropTable('broadcasts').ifExists().execute();
      await s.dropTable('channels').ifExists().execute();
    },
  },
  '2026_11_23_0001_chat': chatMigration,
  '2026_11_23_0900_projection_status': projectionStatusMigration,
  '2026_11_23_1000_analytics': analyticsMigration,
  '2026_11_23_1100_integrations': integrationsMigration,
  '2026_11_23_1200_admin_audit': adminAuditMigration,
  '2026_12_07_0001_channel_latency_mode': channelLatencyModeMigration,
  '2026_12_07_0100_stream_health': streamHealthMigration,
  '2026_12_07_0200_restream_targets': restreamMigration,
  '2026_12_07_0300_recordings': recordingsMigration,
};

/** Serves {@link readModelMigrations} to Kysely's {@link Migrator}. */
export class InCodeMigrationProvider implements MigrationProvider {
  /** @param migrations migrations by sortable name. */
  constructor(private readonly migrations: Record<string, Migration>) {}

  /** Returns every migration, applied or not. */
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(this.migrations);
  }
}

/**
 * Advisory lock key pair that serialises the creation of the `readmodels` schema by processes starting at once:
 * namespace 7_341_003 (beside the store's migration lock 7_341_001, the publisher's 7_341_002, the rebuild's 7_341_004
 * and the projector's 7_341_005). The migrations themselves are serialised by Kysely's migration lock table.
 */
export const READ_MODEL_MIGRATION_LOCK: readonly [number, number] = [7_341_003, 0];

/**
 * Creates the `readmodels` schema if needed and applies pending migrations (bookkeeping tables
 * `readmodels.kysely_migration*`). Idempotent.
 * @param db a Kysely instance on the target database (any schema binding; the migrator qualifies names itself).
 * @returns names of the migrations applied by this call (empty when already up to date).
 * @throws {Error} the first failing migration's error; that migration's transaction is rolled back.
 */
export async function migrateReadModels(db: Kysely<unknown>): Promise<string[]> {
  // Two processes starting at once (query-api replicas, ops): `CREATE SCHEMA IF NOT EXISTS` is not atomic in
  // PostgreSQL — the loser of the race fails with a unique violation on pg_namespace — so it runs under a
  // transaction-level advisory lock; the second waits for the first's commit and then sees the schema.
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${READ_MODEL_MIGRATION_LOCK[0]}::int, ${READ_MODEL_MIGRATION_LOCK[1]}::int)`.execute(trx);
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(READMODELS_SCHEMA)}`.execute(trx);
  });
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrationProvider(readModelMigrations),
    migrationTableSchema: READMODELS_SCHEMA,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`read-model migration failed: ${JSON.stringify(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
