/**
 * Chat queries over the chat read models: channel lookup, history pages, settings and moderators, blocked terms,
 * moderation-log pages and a user's role. All methods take already validated input (see common/params.ts).
 */
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { sql } from 'kysely';
import { defaultChatSettings } from '@eventcast/events';
import { READ_MODEL_DB, type ReadModelDb, READMODELS_SCHEMA, CHAT_MESSAGES_PROJECTION } from '@eventcast/read-models';
import { parseUsername, type PageQuery } from '../common/params.js';
import type { BlockedTermsDto, ChatMessagesPageDto, ChatRoleViewDto, ChatSettingsViewDto, ModerationLogPageDto } from './chat.dto.js';

/** A channel (= account): id and lower-case username. */
export interface ChannelRef {
  id: string;
  username: string;
}

/** Read-only access to chat. */
/**
 * Keyset paging by global position: the query fetched `limit + 1` rows newest first; the extra row only says whether
 * an older page exists. @returns the rows to show and the `before` cursor of the next page (null on the last page).
 */
function pageOf<R extends { global_position: string | number | bigint }>(rows: R[], limit: number): { shown: R[]; nextBefore: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return { shown, nextBefore: rows.length > limit && last ? String(last.global_position) : null };
}

@Injectable()
export class ChatService {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  /** The channel (or any account: every account is a channel) with this lower-case username, or null. */
  async channel(username: string): Promise<ChannelRef | null> {
    return (await this.db.selectFrom('channels').select(['id', 'username']).where('username', '=', username).executeTakeFirst()) ?? null;
  }

  /**
   * The channel named by a raw `:username` path parameter (matched case-insensitively).
   * @throws {BadRequestException} invalid username. @throws {NotFoundException} unknown channel.
   */
  async requireChannel(raw: string): Promise<ChannelRef> {
    const username = parseUsername(raw);
    const channel = await this.channel(username);
    if (!channel) throw new NotFoundException(`channel "${username}" not found`);
    return channel;
  }

  /**
   * A page of visible messages, newest first: `visible_at` ≤ now, not deleted, after the last clear, and with a
   * global position below `page.before` when given. `nextBefore` is the last message's position when an older
   * visible message exists, else null; `position` is the chat-messages checkpoint read just before the rows. Uses the
   * (channel_id, global_position desc) index.
   */
  async messages(channelId: string, page: PageQuery): Promise<ChatMessagesPageDto> {
    // The checkpoint first: the projector commits rows and checkpoint together, so the rows read next reflect at least it.
    const checkpoint = await this.db.selectFrom('projection_checkpoints').select('position').where('name', '=', CHAT_MESSAGES_PROJECTION).executeTakeFirst();
    let q = this.db
      .selectFrom('chat_messages')
      .select(['id', 'sender_id', 'sender_name', 'sender_role', 'text', 'sent_at', 'visible_at', 'global_position', 'bot_name'])
      .where('channel_id', '=', channelId)
      .where('deleted_at', 'is', null)
      .where('visible_at', '<=', sql<Date>`now()`)
      .where(
        'global_position',
        '>',
        sql<string>`COALESCE((SELECT cleared_at_position FROM ${sql.table(`${READMODELS_SCHEMA}.chat_rooms`)} WHERE channel_id = ${channelId}::uuid), 0)`,
      );
    if (page.before !== null) q = q.where('global_position', '<', page.before.toString());
    const { shown, nextBefore } = pageOf(await q.orderBy('global_position', 'desc').limit(page.limit + 1).execute(), page.limit);
    return {
      messages: shown.map((r) => ({
        id: r.id,
        senderId: r.sender_id,
        senderName: r.sender_name,
        senderRole: r.sender_role,
        text: r.text,
        sentAt: r.sent_at.toISOString(),
        visibleAt: r.visible_at.toISOString(),
        globalPosition: String(r.global_position),
        bot: r.bot_name === null ? null : { name: r.bot_name },
      })),
      nextBefore,
      position: String(checkpoint?.position ?? '0'),
    };
  }

  /** Settings (defaults when never changed) and moderators ordered by username. */
  async settings(channelId: string): Promise<ChatSettingsViewDto> {
    const room = await this.db.selectFrom('chat_rooms').select('settings').where('channel_id', '=', channelId).executeTakeFirst();
    const moderators = await this.db
      .selectFrom('chat_roles')
      .select(['user_id as id', 'user_name as username'])
      .where('channel_id', '=', channelId)
      .where('moderator', '=', true)
      .orderBy('user_name')
      .execute();
    return { settings: room?.settings ?? defaultChatSettings, moderators };
  }

  /** Blocked terms and action (`[]` / `mask` when never set). */
  async blockedTerms(channelId: string): Promise<BlockedTermsDto> {
    const room = await this.db.selectFrom('chat_rooms').select(['blocked_terms', 'blocked_action']).where('channel_id', '=', channelId).executeTakeFirst();
    return { terms: room?.blocked_terms ?? [], action: room?.blocked_action ?? 'mask' };
  }

  /** A page of the moderation log, newest first; paging as {@link messages}. */
  async moderationLog(channelId: string, page: PageQuery): Promise<ModerationLogPageDto> {
    let q = this.db
      .selectFrom('moderation_log')
      .select(['id', 'action', 'moderator_name', 'target_name', 'reason', 'details', 'at', 'global_position'])
      .where('channel_id', '=', channelId);
    if (page.before !== null) q = q.where('global_position', '<', page.before.toString());
    const { shown, nextBefore } = pageOf(await q.orderBy('global_position', 'desc').limit(page.limit + 1).execute(), page.limit);
    return {
      entries: shown.map((r) => ({
        id: r.id,
        action: r.action,
        moderatorName: r.moderator_name,
        targetName: r.target_name,
        reason: r.reason,
        details: r.details,
        at: r.at.toISOString(),
        globalPosition: String(r.global_position),
      })),
      nextBefore,
    };
  }

  /** True when `userId` currently moderates the channel (the owner is not listed as a moderator). */
  async isModerator(channelId: string, userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('chat_roles').select('moderator').where('channel_id', '=', channelId).where('user_id', '=', userId).executeTakeFirst();
    return row?.moderator === true;
  }

  /**
   * The standing of `user` in `channel`: owner when it is the channel itself, else moderator or viewer; `banned`;
   * `timedOutUntil` only while the timeout runs (ISO), else null; whether the user follows the channel.
   */
  async role(channel: ChannelRef, user: ChannelRef): Promise<ChatRoleViewDto> {
    const row = await this.db
      .selectFrom('chat_roles')
      .select(['moderator', 'banned', 'timed_out_until'])
      .where('channel_id', '=', channel.id)
      .where('user_id', '=', user.id)
      .executeTakeFirst();
    const follow = await this.db.selectFrom('follows').select('follower_id').where('channel_id', '=', channel.id).where('follower_id', '=', user.id).executeTakeFirst();
    const until = row?.timed_out_until ?? null;
    const owner = channel.id === user.id;
    return {
      role: owner ? 'owner' : row?.moderator ? 'moderator' : 'viewer',
      banned: !owner && row?.banned === true,
      timedOutUntil: !owner && until !== null && until.getTime() > Date.now() ? until.toISOString() : null,
      follows: follow !== undefined,
    };
  }
}
