/**
 * Chat moderation shapes shared by command-api, query-api and the web app (docs/chat.md): why a moderation command
 * was refused (HTTP 403 bodies) and the moderation log's entries, with what a settings change changed.
 */
import { z } from './zod.js';

/**
 * Why a chat moderation command was refused (HTTP 403, `code: 'forbidden'`, this value in `reason`, the sentence in
 * `message`). The permission rules are Twitch's (docs/chat.md "Moderation permissions"):
 * - `not_moderator`: the actor is neither the channel owner nor one of its moderators;
 * - `owner_only`: adding/removing moderators and emotes is the owner's alone;
 * - `target_is_owner`: nobody bans or times out the channel owner;
 * - `target_is_moderator`: a moderator may not ban or time out another moderator (the owner may);
 * - `target_is_owner_moderator`: the owner cannot be made a moderator of their own channel;
 * - `target_banned`: a banned user cannot be made a moderator (unban first).
 */
export const moderationRefusalSchema = z.enum([
  'not_moderator',
  'owner_only',
  'target_is_owner',
  'target_is_moderator',
  'target_is_owner_moderator',
  'target_banned',
]);
export type ModerationRefusal = z.infer<typeof moderationRefusalSchema>;

/** The 403 body of a refused moderation command (command-api's `{ statusCode, error, message }` plus the codes). */
export const moderationRefusalBodySchema = z.object({
  statusCode: z.literal(403),
  error: z.literal('Forbidden'),
  /** The sentence to show, e.g. "moderators cannot ban the channel owner". */
  message: z.string(),
  code: z.literal('forbidden'),
  reason: moderationRefusalSchema,
});
export type ModerationRefusalBody = z.infer<typeof moderationRefusalBodySchema>;

/** The chat settings a moderation log entry can show as changed (libs/events `ChatSettings`). */
export const chatSettingNameSchema = z.enum([
  'enabled',
  'slowModeSeconds',
  'followersOnly',
  'messageDelaySeconds',
  'emoteOnly',
  'rateLimitMessages',
  'rateLimitWindowSeconds',
]);
export type ChatSettingName = z.infer<typeof chatSettingNameSchema>;

/** One setting changed by a `settings_changed` entry: its value before and after (numbers in seconds or messages). */
export const chatSettingChangeSchema = z.object({
  setting: chatSettingNameSchema,
  from: z.union([z.boolean(), z.number()]),
  to: z.union([z.boolean(), z.number()]),
});
export type ChatSettingChange = z.infer<typeof chatSettingChangeSchema>;

/**
 * `details` of a `settings_changed` moderation log entry: the settings in force after the change, and what changed
 * against the settings in force before it (the previous change of the channel, or the defaults), in the order of
 * {@link chatSettingNameSchema}.
 */
export const settingsChangedDetailsSchema = z.object({
  settings: z.record(z.string(), z.union([z.boolean(), z.number()])),
  changes: z.array(chatSettingChangeSchema),
});
export type SettingsChangedDetails = z.infer<typeof settingsChangedDetailsSchema>;

/**
 * One entry of `GET /channels/:username/chat/moderation-log` (query-api). `action`: `message_deleted`,
 * `chat_cleared`, `user_timed_out`, `user_banned`, `user_unbanned`, `moderator_added`, `moderator_removed`,
 * `settings_changed` (details: {@link SettingsChangedDetails}), `blocked_terms_updated`, `emote_added`,
 * `emote_removed`, `message_refused` (moderatorName `AutoMod`).
 */
export const moderationLogEntrySchema = z.object({
  id: z.string(),
  action: z.string(),
  moderatorName: z.string(),
  targetName: z.string().nullable(),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  at: z.string(),
  globalPosition: z.string(),
});
export type ModerationLogEntry = z.infer<typeof moderationLogEntrySchema>;
