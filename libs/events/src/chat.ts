/**
 * Chat and moderation events (stream `chat-<channelId>`, one chat room per channel) and follows
 * (stream `follows-<channelId>`). Text is stored exactly as sent (after blocked-term masking) and is never HTML.
 */
import { z } from 'zod';
import {
  CHAT_MESSAGE_MAX_CODE_UNITS,
  CHAT_MESSAGE_MAX_LENGTH,
  DEFAULT_CHAT_SETTINGS,
  blockedTermActionSchema,
  chatRoleSchema,
  chatSettingsSchema,
  freeText,
  textRefinement,
  type ChatRole,
  type ChatSettings,
} from '@eventcast/contracts';

const uuid = z.uuid();
const name = z.string().min(3).max(24).regex(/^[a-z0-9_]+$/);
const iso = z.iso.datetime({ offset: true });

/**
 * Chat roles and room settings with their defaults are contracts (the web shows and edits them): declared in
 * `@eventcast/contracts` (chat.ts), re-exported here for the catalog's importers.
 */
export { chatRoleSchema, chatSettingsSchema, type ChatRole, type ChatSettings };
/** The settings of a room nobody changed yet: `DEFAULT_CHAT_SETTINGS` of @eventcast/contracts. */
export const defaultChatSettings: Readonly<ChatSettings> = DEFAULT_CHAT_SETTINGS;

/**
 * Limits applied to one chat message: 1–500 user-perceived characters (graphemes) after trimming (Twitch allows 500).
 * Declared in the contract module with the text rule (`@eventcast/contracts`, text.ts); re-exported for old importers.
 */
export { CHAT_MESSAGE_MAX_LENGTH };

/** A moderation reason: at most 200 UTF-16 code units under the text rule (no controls, bidi overrides, lone surrogates). */
const reason = z.string().max(200).superRefine(textRefinement());

/** Who did a moderation action. */
const actor = { moderatorId: uuid, moderatorName: name };
/** The room: channel id and the channel's username (for routing on the edge). */
const room = { channelId: uuid, username: name };
/** The user acted upon. */
const target = { userId: uuid, userName: name };

export const chatEventSchemas = {
  ChatMessageSent: z.object({
    ...room,
    messageId: uuid,
    senderId: uuid,
    senderName: name,
    senderRole: chatRoleSchema,
    /**
     * As sent, trimmed, after blocked-term masking (`*` per character). Rendered as text, never HTML. 1–500 graphemes
     * under the text rule of `@eventcast/contracts` (the last line of defence: the decider refuses such text first).
     */
    text: freeText({ min: 1, max: CHAT_MESSAGE_MAX_LENGTH, maxCodeUnits: CHAT_MESSAGE_MAX_CODE_UNITS }),
    /** Number of blocked terms masked in `text`. */
    maskedTerms: z.number().int().min(0),
    /**
     * Version 2 (issue 4): when the chat room decided the send (ISO-8601; the decider's clock). Version 1 had no
     * field and read models used the event's `occurredAt` (the append time); the upcaster in catalog.ts fills it
     * from there.
     */
    sentAt: iso,
    /** When viewers may see it (sentAt + the room's message delay for non-moderators). */
    visibleAt: iso,
    /**
     * Set when the channel's bot sent it with an API token (scope `chat:send`): the sender is then the channel owner
     * and `name` is the bot's display name (shown with a bot badge). Absent for people (and in older events).
     */
    bot: z.object({ tokenId: uuid, name }).optional(),
  }),
  /**
   * A message refused by the chat room (the text is never kept): `blocked_term` by the blocked-terms filter in
   * `refuse` mode, `invalid_text` for text the text rule refuses (controls, bidi overrides, unpaired surrogates; issue
   * 9). `refusedAt` (version 2): when the chat room decided; the refusal counts toward the sender's rate limit and slow
   * mode like a sent message.
   */
  ChatMessageRefused: z.object({ ...room, senderId: uuid, senderName: name, reason: z.enum(['blocked_term', 'invalid_text']), refusedAt: iso }),
  ChatMessageDeleted: z.object({ ...room, ...actor, messageId: uuid, senderId: uuid, reason }),
  ChatCleared: z.object({ ...room, ...actor }),
  ChatUserTimedOut: z.object({ ...room, ...actor, ...target, durationSeconds: z.number().int().min(1).max(1_209_600), until: iso, reason }),
  ChatUserBanned: z.object({ ...room, ...actor, ...target, reason }),
  ChatUserUnbanned: z.object({ ...room, ...actor, ...target }),
  ChatModeratorAdded: z.object({ ...room, ...actor, ...target }),
  ChatModeratorRemoved: z.object({ ...room, ...actor, ...target }),
  ChatSettingsChanged: z.object({ ...room, ...actor, settings: chatSettingsSchema }),
  ChatBlockedTermsUpdated: z.object({
    ...room,
    ...actor,
    /** Lower-case terms, matched case-insensitively on word boundaries. */
    terms: z.array(z.string().min(1).max(50).superRefine(textRefinement())).max(500),
    action: blockedTermActionSchema,
  }),
  ChannelEmoteAdded: z.object({
    ...room,
    ...actor,
    /** Used in chat as `:code:`. */
    code: z.string().regex(/^[A-Za-z0-9_]{2,32}$/),
    contentType: z.enum(['image/png', 'image/gif', 'image/webp']),
    /** The image, base64; at most 64 KiB decoded, so the event store alone can rebuild the emote read model. */
    imageBase64: z.string().max(87_400),
  }),
  ChannelEmoteRemoved: z.object({ ...room, ...actor, code: z.string().regex(/^[A-Za-z0-9_]{2,32}$/) }),
  ChannelFollowed: z.object({ ...room, followerId: uuid, followerName: name }),
  ChannelUnfollowed: z.object({ ...room, followerId: uuid, followerName: name }),
} as const;

/** Chat events the realtime edge relays to a channel's viewers. */
export const RELAYED_CHAT_EVENTS = [
  'ChatMessageSent',
  'ChatMessageDeleted',
  'ChatCleared',
  'ChatUserTimedOut',
  'ChatUserBanned',
  'ChatUserUnbanned',
  'ChatModeratorAdded',
  'ChatModeratorRemoved',
  'ChatSettingsChanged',
  'ChannelEmoteAdded',
  'ChannelEmoteRemoved',
] as const;
