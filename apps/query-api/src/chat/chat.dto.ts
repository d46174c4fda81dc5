/**
 * Response shapes of the chat queries (docs/chat.md, query-api HTTP). Times are ISO-8601 strings; global
 * positions are decimal strings (bigint). Each class implements its shape of @eventcast/contracts (chat.ts), which the
 * web reads.
 */
import { ApiProperty } from '@nestjs/swagger';
import type {
  BlockedTerms,
  ChatHistory,
  ChatMessageView,
  ChatRole,
  ChatRoleView,
  ChatSettings,
  ChatSettingsView,
  Emote,
  EmoteList,
  FollowerCount,
  ModerationLog,
  ModerationLogEntry,
  UserRef,
} from '@eventcast/contracts';

/** One visible chat message (`ChatMessageView`). */
export class ChatMessageViewDto implements ChatMessageView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) senderId!: string;
  @ApiProperty({ example: 'bob' }) senderName!: string;
  @ApiProperty({ enum: ['owner', 'moderator', 'viewer'] }) senderRole!: ChatRole;
  @ApiProperty({ description: 'plain text (never HTML), after blocked-term masking', example: 'hello chat' }) text!: string;
  @ApiProperty({ format: 'date-time' }) sentAt!: string;
  @ApiProperty({ format: 'date-time' }) visibleAt!: string;
  @ApiProperty({ example: '1234', description: 'global position (decimal string); pass as `before` to page' }) globalPosition!: string;
  @ApiProperty({
    type: Object,
    nullable: true,
    example: { name: 'alice_bot' },
    description: "set when the channel's bot sent it with an API token (docs/contracts.md \"Integrations\"): show a bot badge",
  })
  bot!: { name: string } | null;
}

/** A page of chat history, newest first. */
export class ChatMessagesPageDto implements ChatHistory {
  @ApiProperty({ type: [ChatMessageViewDto] }) messages!: ChatMessageViewDto[];
  @ApiProperty({ type: String, nullable: true, description: '`before` of the next (older) page; null on the last page' }) nextBefore!: string | null;
  @ApiProperty({
    type: String,
    example: '1042',
    description:
      'global position (decimal) the chat read model had reached when the page was read: every message up to it is reflected. A client that subscribed at a later position (the realtime `subscribed` frame) reads again until it is reached',
  })
  position!: string;
}

/** Chat room settings (`ChatSettings` of @eventcast/events). */
export class ChatSettingsDto implements ChatSettings {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ minimum: 0, maximum: 3600 }) slowModeSeconds!: number;
  @ApiProperty() followersOnly!: boolean;
  @ApiProperty({ enum: [0, 2, 4, 6] }) messageDelaySeconds!: 0 | 2 | 4 | 6;
  @ApiProperty() emoteOnly!: boolean;
  @ApiProperty({ minimum: 1, maximum: 100 }) rateLimitMessages!: number;
  @ApiProperty({ minimum: 1, maximum: 3600 }) rateLimitWindowSeconds!: number;
}

/** A user reference. */
export class UserRefDto implements UserRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'carol' }) username!: string;
}

/** Public chat settings and the moderators, by username. */
export class ChatSettingsViewDto implements ChatSettingsView {
  @ApiProperty({ type: ChatSettingsDto }) settings!: ChatSettingsDto;
  @ApiProperty({ type: [UserRefDto] }) moderators!: UserRefDto[];
}

/** Blocked terms (lower-case) and what happens to a message containing one. */
export class BlockedTermsDto implements BlockedTerms {
  @ApiProperty({ type: [String] }) terms!: string[];
  @ApiProperty({ enum: ['mask', 'refuse'] }) action!: 'mask' | 'refuse';
}

/** One moderation-log entry. */
export class ModerationLogEntryDto implements ModerationLogEntry {
  @ApiProperty({ format: 'uuid', description: 'id of the event' }) id!: string;
  @ApiProperty({
    enum: ['message_deleted', 'chat_cleared', 'user_timed_out', 'user_banned', 'user_unbanned', 'moderator_added', 'moderator_removed', 'settings_changed', 'blocked_terms_updated', 'emote_added', 'emote_removed', 'message_refused'],
  })
  action!: string;
  @ApiProperty({ example: 'alice', description: '`AutoMod` for blocked-term refusals' }) moderatorName!: string;
  @ApiProperty({ type: String, nullable: true }) targetName!: string | null;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'action-specific facts (duration, settings, terms, emote code, deleted text…)' })
  details!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ example: '1234' }) globalPosition!: string;
}

/** A page of the moderation log, newest first. */
export class ModerationLogPageDto implements ModerationLog {
  @ApiProperty({ type: [ModerationLogEntryDto] }) entries!: ModerationLogEntryDto[];
  @ApiProperty({ type: String, nullable: true }) nextBefore!: string | null;
}

/** A user's standing in a channel's chat. */
export class ChatRoleViewDto implements ChatRoleView {
  @ApiProperty({ enum: ['owner', 'moderator', 'viewer'] }) role!: ChatRole;
  @ApiProperty() banned!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'end of a running timeout, else null' }) timedOutUntil!: string | null;
  @ApiProperty({ description: 'whether the user follows the channel' }) follows!: boolean;
}

/** An emote and the URL of its image. */
export class EmoteRefDto implements Emote {
  @ApiProperty({ example: 'PogChamp' }) code!: string;
  @ApiProperty({ example: 'http://localhost:4002/channels/alice/emotes/PogChamp' }) url!: string;
}

/** The channel's emotes, by code. */
export class EmoteListDto implements EmoteList {
  @ApiProperty({ type: [EmoteRefDto] }) emotes!: EmoteRefDto[];
}

/** Number of followers. */
export class FollowerCountDto implements FollowerCount {
  @ApiProperty({ example: 42 }) count!: number;
}
