/**
 * `moderation_log` read model: one entry per moderation event of a chat room, with a readable action name. A settings
 * change also says what it changed, old → new (`details.changes`, @eventcast/contracts `SettingsChangedDetails`).
 */
import { sql, type Insertable, type RawBuilder, type Transaction } from 'kysely';
import { chatSettingNameSchema, type ChatSettingChange, type SettingsChangedDetails } from '@eventcast/contracts';
import { defaultChatSettings, type ChatSettings, type EventType, type RecordedDomainEvent } from '@eventcast/events';
import { READMODELS_SCHEMA, type DB, type ModerationLogTable } from '../schema/schema.js';
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

type SettingsChangedEvent = Extract<RecordedDomainEvent, { type: 'ChatSettingsChanged' }>;

const messages = sql.table(`${READMODELS_SCHEMA}.chat_messages`);
const reasonOrNull = (r: string): string | null => (r.trim() === '' ? null : r);

/**
 * What a settings change changed: each setting whose value differs between `before` and `after`, in the order of
 * @eventcast/contracts `chatSettingNameSchema`.
 */
export function settingsChanges(before: ChatSettings, after: ChatSettings): ChatSettingChange[] {
  return chatSettingNameSchema.options.filter((k) => before[k] !== after[k]).map((setting) => ({ setting, from: before[setting], to: after[setting] }));
}

/**
 * Builds the log row of a moderation event, or null for other types. A deleted message's sender name and text are
 * read from `chat_messages` in the same statement (the chat-messages projection runs first in the same transaction).
 * @param previousSettings for a `ChatSettingsChanged`: the channel's settings in force before it (the chat room's
 *   fold: the previous change's settings, else the defaults), so the row says what changed.
 */
export function moderationRow(e: RecordedDomainEvent, previousSettings: ChatSettings = defaultChatSettings): Row | null {
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
      else if (e.type === 'ChatSettingsChanged') {
        details = { settings: e.data.settings, changes: settingsChanges(previousSettings, e.data.settings) } satisfies SettingsChangedDetails;
      }
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

  /**
   * See {@link Projection.applyBatch}: rows go in chunks of 1000 (well under PostgreSQL's 65535 parameters). A settings
   * change is compared with the channel's previous one: earlier in the batch, else the newest `settings_changed` row
   * already in the table (one query for the batch), else the defaults — the same fold as the chat room aggregate's, so
   * the rows do not depend on how the log is cut into batches and a rebuild writes the same ones.
   */
  async applyBatch(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<void> {
    const settingsEvents = events.filter((e): e is SettingsChangedEvent => e.type === 'ChatSettingsChanged');
    const current = await this.settingsInForce(trx, settingsEvents);
    const rows: Row[] = [];
    for (const e of events) {
      let row: Row | null;
      if (e.type === 'ChatSettingsChanged') {
        row = moderationRow(e, current.get(e.data.channelId) ?? defaultChatSettings);
        current.set(e.data.channelId, e.data.settings);
      } else {
        row = moderationRow(e);
      }
      if (row !== null) rows.push(row);
    }
    for (let i = 0; i < rows.length; i += 1000) {
      await trx
        .insertInto('moderation_log')
        .values(rows.slice(i, i + 1000))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  }

  /** Per channel of `settingsEvents`: the settings of its newest `settings_changed` row before the first of them. */
  private async settingsInForce(trx: Transaction<DB>, settingsEvents: readonly SettingsChangedEvent[]): Promise<Map<string, ChatSettings>> {
    const out = new Map<string, ChatSettings>();
    if (settingsEvents.length === 0) return out;
    const channels = [...new Set(settingsEvents.map((e) => e.data.channelId))];
    const rows = await trx
      .selectFrom('moderation_log')
      .distinctOn('channel_id')
      .select(['channel_id', 'details'])
      .where('channel_id', 'in', channels)
      .where('action', '=', moderationAction.ChatSettingsChanged)
      .where('global_position', '<', settingsEvents[0]!.globalPosition.toString())
      .orderBy('channel_id')
      .orderBy('global_position', 'desc')
      .execute();
    for (const r of rows) {
      const settings = (r.details as { settings?: Partial<ChatSettings> }).settings;
      out.set(r.channel_id, { ...defaultChatSettings, ...settings });
    }
    return out;
  }
}
