/**
 * Dumps every read-model table of a database in a stable order, to compare a live read model with a rebuild.
 */
import { createReadModelDb } from '../database/database.js';

/** All rows of every read model plus the checkpoints, each table sorted by its key. */
export async function dumpReadModels(url: string) {
  const { db, root } = createReadModelDb(url, 1);
  try {
    return {
      channels: await db.selectFrom('channels').selectAll().orderBy('id').execute(),
      broadcasts: await db.selectFrom('broadcasts').selectAll().orderBy('id').execute(),
      chatMessages: await db.selectFrom('chat_messages').selectAll().orderBy('global_position').execute(),
      chatRooms: await db.selectFrom('chat_rooms').selectAll().orderBy('channel_id').execute(),
      chatRoles: await db.selectFrom('chat_roles').selectAll().orderBy('channel_id').orderBy('user_id').execute(),
      moderationLog: await db.selectFrom('moderation_log').selectAll().orderBy('global_position').execute(),
      emotes: await db.selectFrom('channel_emotes').selectAll().orderBy('channel_id').orderBy('code').execute(),
      follows: await db.selectFrom('follows').selectAll().orderBy('channel_id').orderBy('follower_id').execute(),
      checkpoints: await db.selectFrom('projection_checkpoints').select(['name', 'position']).orderBy('name').execute(),
    };
  } finally {
    await root.destroy();
  }
}
