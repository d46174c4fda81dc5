/**
 * Migration `2026_11_23_0001_chat` (issue 3): chat history, chat rooms (settings, blocked terms, clear marker),
 * chat roles (moderators, bans, timeouts), moderation log, channel emotes and follows. Append-only: never edit it
 * once applied, add a new migration instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { READMODELS_SCHEMA } from '../schema/schema.js';

/** Creates the chat tables and their indexes (see `ChatMessagesTable` … `FollowsTable` in schema.ts). */
export const chatMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    await s
      .createTable('chat_messages')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('sender_id', 'uuid', (c) => c.notNull())
      .addColumn('sender_name', 'text', (c) => c.notNull())
      .addColumn('sender_role', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('masked_terms', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
      .addColumn('visible_at', 'timestamptz', (c) => c.notNull())
      .addColumn('deleted_at', 'timestamptz')
      .addColumn('deleted_by', 'uuid')
      .addColumn('global_position', 'bigint', (c) => c.notNull())
      .execute();
    await sql`CREATE INDEX chat_messages_channel_position_idx ON ${sql.table(`${READMODELS_SCHEMA}.chat_messages`)} (channel_id, global_position DESC)`.execute(db);
    await s
      .createTable('chat_rooms')
      .addColumn('channel_id', 'uuid', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('settings', 'jsonb', (c) => c.notNull())
      .addColumn('blocked_terms', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('blocked_action', 'text', (c) => c.notNull().defaultTo('mask'))
      .addColumn('cleared_at_position', 'bigint')
      .execute();
    await s
      .createTable('chat_roles')
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('user_id', 'uuid', (c) => c.notNull())
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('moderator', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('banned', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('timed_out_until', 'timestamptz')
      .addPrimaryKeyConstraint('chat_roles_pk', ['channel_id', 'user_id'])
      .execute();
    await s
      .createTable('moderation_log')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('moderator_id', 'uuid')
      .addColumn('moderator_name', 'text', (c) => c.notNull())
      .addColumn('target_id', 'uuid')
      .addColumn('target_name', 'text')
      .addColumn('reason', 'text')
      .addColumn('details', 'jsonb', (c) => c.notNull())
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('global_position', 'bigint', (c) => c.notNull())
      .execute();
    await sql`CREATE INDEX moderation_log_channel_position_idx ON ${sql.table(`${READMODELS_SCHEMA}.moderation_log`)} (channel_id, global_position DESC)`.execute(db);
    await s
      .createTable('channel_emotes')
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('image', 'bytea', (c) => c.notNull())
      .addPrimaryKeyConstraint('channel_emotes_pk', ['channel_id', 'code'])
      .execute();
    await s
      .createTable('follows')
      .addColumn('channel_id', 'uuid', (c) => c.notNull())
      .addColumn('follower_id', 'uuid', (c) => c.notNull())
      .addColumn('follower_name', 'text', (c) => c.notNull())
      .addColumn('followed_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('follows_pk', ['channel_id', 'follower_id'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    const s = db.schema.withSchema(READMODELS_SCHEMA);
    for (const t of ['follows', 'channel_emotes', 'moderation_log', 'chat_roles', 'chat_rooms', 'chat_messages']) await s.dropTable(t).ifExists().execute();
  },
};
