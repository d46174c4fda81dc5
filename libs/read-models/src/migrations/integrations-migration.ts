/**
 * Migration `2026_11_23_1100_integrations`: the `api_tokens` and `webhooks` read models and the webhook delivery log
 * (schema `integrations`). Append-only: never edit it once applied, add a new migration instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';
import { INTEGRATIONS_SCHEMA } from '../schema/integrations-schema.js';

/** Creates the tables of integrations-schema.ts. */
export const integrationsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s
      .createTable('api_tokens')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('scopes', sql`text[]`, (c) => c.notNull())
      .addColumn('bot_name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('revoked_at', 'timestamptz')
      .execute();
    await s.createIndex('api_tokens_channel_idx').on('api_tokens').column('channel_id').execute();
    await s
      .createTable('webhooks')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('event_types', sql`text[]`, (c) => c.notNull())
      .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
      .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
      .addColumn('registered_position', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .execute();
    await s.createIndex('webhooks_channel_idx').on('webhooks').column('channel_id').execute();
    // Chat history shows the bot badge: the bot's display name of a message sent with an API token (else null).
    await s.alterTable('chat_messages').addColumn('bot_name', 'text').execute();

    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(INTEGRATIONS_SCHEMA)}`.execute(db);
    const d = db.schema.withSchema(INTEGRATIONS_SCHEMA);
    await d
      .createTable('webhook_deliveries')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('webhook_id', 'uuid', (c) => c.notNull())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('event_id', 'uuid', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('global_position', 'bigint', (c) => c.notNull())
      .addColumn('payload', 'jsonb', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('completed_at', 'timestamptz')
      .addUniqueConstraint('webhook_deliveries_webhook_event_uq', ['webhook_id', 'event_id'])
      .execute();
    await d.createIndex('webhook_deliveries_webhook_idx').on('webhook_deliveries').columns(['webhook_id', 'global_position']).execute();
    await d
      .createTable('webhook_delivery_attempts')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('delivery_id', 'uuid', (c) => c.notNull().references(`${INTEGRATIONS_SCHEMA}.webhook_deliveries.id`).onDelete('cascade'))
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('latency_ms', 'integer', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('succeeded', 'boolean', (c) => c.notNull())
      .execute();
    await d.createIndex('webhook_delivery_attempts_delivery_idx').on('webhook_delivery_attempts').columns(['delivery_id', 'attempt']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(INTEGRATIONS_SCHEMA)} CASCADE`.execute(db);
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s.alterTable('chat_messages').dropColumn('bot_name').execute();
    await s.dropTable('webhooks').ifExists().execute();
    await s.dropTable('api_tokens').ifExists().execute();
  },
};
