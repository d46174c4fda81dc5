/**
 * `moderation_log` read model: one entry per moderation event of a chat room, with a readable action name.
 */
import { sql, type Insertable, type RawBuilder, type Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import { READMODELS_SCHEMA, type DB, type ModerationLogTable } from '../database/schema.js';
import type { Projection } from './projection.js';

/** Readable `action` of each moderation event type. */
export const moderationAction = {
  ChatMessageDeleted: 'message_deleted',
  ChatCleared: 'chat_cleared',
  ChatUserTimedOut: 'user_timed_out',
  ChatUserBanned: 'user_banned',
  ChatUserUnbanned: 'user_unbanned',
  ChatModeratorAdded: 'moderator_added',
  ChatModeratorRemoved: 'moderator_removed',
  ChatSettingsChanged: 'settings_changed',
  ChatBlockedTermsUpdated: 'blocked_terms_updated',
  ChannelEmoteAdded: 'emote_added',
  ChannelEmoteRemoved: 'emote_removed',
  ChatMessageRefused: 'message_refused',
} as const satisfies Partial<Record<EventType, string>>;

/** `moderatorName` of automatic actions (blocked-term refusals); capitalised, so no username can be it. */
export const AUTOMOD = 'AutoMod';

type Row = Omit<Insertable<ModerationLogTable>, 'target_name' | 'details'> & {
  target_name: string | null | RawBuilder<string | null>;
  details: string | RawBuilder<string>;
};

const messages = sql.table(`${READMODELS_SCHEMA}.chat_messages`);
const reasonOrNull = (r: string): string | null => (r.trim() === '' ? null : r);

/**
 * Builds the log row of a moderation event, or null for other types. A deleted message's sender name and text are
 * read from `chat_messages` in the same statement (the chat-messages projection runs first in the same transaction).
 */
export function moderationRow(e: RecordedDomainEvent): Row | null {
  const base = { id: e.id, at: e.occurredAt, global_position: e.globalPosition };
  const json = (o: Record<string, unknown>) => JSON.stringify(o);
  switch (e.type) {
    case 'ChatMessageDeleted': {
      const d = e.data;
      // Only a message sent before the delete counts (a batch inserts all its messages before this log reads them).
      const lookup = (col: string) => sql`(SELECT ${sql.ref(col)} FROM ${messages} WHERE id = ${d.messageId}::uuid AND global_position < ${e.globalPosition.toString()}::bigint)`;
      return {
        ...base,
        channel_id: d.channelId,
        action: moderationAction.ChatMessageDeleted,
        moderator_id: d.moderatorId,
        moderator_name: d.moderatorName,
        target_id: d.senderId,
        target_name: sql<string | null>`${lookup('sender_name')}`,
        reason: reasonOrNull(d.reason),
        details: sql<string>`jsonb_build_object('messageId', ${d.messageId}::text, 'text', ${lookup('text')})`,
      };
    }
    case 'ChatMessageRefused': {
      const d = e.data;
      const who = { target_id: d.senderId, target_name: d.senderName };
      return { ...base, ...who, channel_id: d.channelId, action: moderationAction.ChatMessageRefused, moderator_id: null, moderator_name: AUTOMOD, reason: d.reason, details: '{}' };
    }
    case 'ChatCleared':
    case 'ChatUserBanned':
    case 'ChatUserUnbanned':
    case 'ChatModeratorAdded':
    case 'ChatModeratorRemoved':
    case 'ChatUserTimedOut':
    case 'ChatSettingsChanged':
    case 'ChatBlockedTermsUpdated':
    case 'ChannelEmoteAdded':
    case 'ChannelEmoteRemoved': {
      const d = e.data;
      const target = 'userId' in d ? { target_id: d.userId, target_name: d.userName } : { target_id: null, target_name: null };
      const reason = 'reason' in d ? reasonOrNull(d.reason) : null;
      let details: Record<string, unknown> = {};
      if (e.type === 'ChatUserTimedOut') details = { durationSeconds: e.data.durationSeconds, until: e.data.until };
      else if (e.type === 'ChatSettingsChanged') details = { settings: e.data.settings };
      else if (e.type === 'ChatBlockedTermsUpdated') details = { terms: e.data.terms, action: e.data.action };
      else if (e.type === 'ChannelEmoteAdded') details = { code: e.data.code, contentType: e.data.contentType };
      else if (e.type === 'ChannelEmoteRemoved') details = { code: e.data.code };
      const moderator = { moderator_id: d.moderatorId, moderator_name: d.moderatorName };
      return { ...base, ...target, ...moderator, channel_id: d.channelId, action: moderationAction[e.type], reason, details: json(details) };
    }
    default:
      return null;
  }
}

/** Projects every moderation event (see {@link moderationAction}) into `moderation_log`; a batch is one multi-row insert. */
export class ModerationLogProjection implements Projection {
  readonly name = 'moderation-log';
  readonly tables = ['moderation_log'];
  readonly reads = ['chat_messages'];
  readonly handles = Object.keys(moderationAction) as EventType[];

  /** See {@link Projection.apply}. */
  apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    return this.applyBatch(trx, [event]);
  }

  /** See {@link Projection.applyBatch}: rows go in chunks of 1000 (well under PostgreSQL's 65535 parameters). */
  async applyBatch(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<void> {
    const rows = events.map(moderationRow).filter((r): r is Row => r !== null);
    for (let i = 0; i < rows.length; i += 1000) {
      await trx
        .insertInto('moderation_log')
        .values(rows.slice(i, i + 1000))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  }
}
