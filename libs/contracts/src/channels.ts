/**
 * Channel resolution over NATS request/reply: username → channel id, answered by the command side.
 *
 * The realtime edge addresses a chat room by channel id (`chat.send`), but viewers subscribe by username. The edge
 * asks the command side, which reads the username reservation stream (`username-<name>`) and the account aggregate,
 * so the chat write path never depends on query-api (issue 9 item 8). Wire format: the @nestjs/microservices NATS
 * transport (JSON `{ pattern, data, id }` → `{ response, isDisposed, id }`, docs/contracts.md "Command request/reply
 * over NATS"). Channel ids never change for a username, so a positive answer may be cached for ever.
 */
import { z } from './zod.js';

/** NATS subject (= Nest message pattern) of the resolution request. */
export const CHANNEL_RESOLVE_SUBJECT = 'channels.resolve';

/** A channel name as in URLs: 3–24 characters `a-z`, `0-9`, `_` (case-insensitive; compared lower-cased). */
export const channelUsernameSchema = z
  .string()
  .min(3)
  .max(24)
  .regex(/^[A-Za-z0-9_]+$/, 'username must be 3-24 characters a-z, 0-9 or _');

/** Request of {@link CHANNEL_RESOLVE_SUBJECT}. */
export const channelResolveRequestSchema = z.strictObject({ username: channelUsernameSchema });
/** Request of {@link CHANNEL_RESOLVE_SUBJECT}: `{ username }`. */
export type ChannelResolveRequest = z.infer<typeof channelResolveRequestSchema>;

/** Refusal codes of {@link CHANNEL_RESOLVE_SUBJECT}. */
export const CHANNEL_RESOLVE_ERROR_CODES = ['channel_not_found', 'invalid_request', 'unavailable', 'internal_error'] as const;
/** One of {@link CHANNEL_RESOLVE_ERROR_CODES}. */
export type ChannelResolveErrorCode = (typeof CHANNEL_RESOLVE_ERROR_CODES)[number];

/**
 * Reply of {@link CHANNEL_RESOLVE_SUBJECT}: `{ ok: true, channelId, username }` (username as registered, lower case)
 * or `{ ok: false, code, message }` — `channel_not_found` (no such account), `invalid_request` (bad username),
 * `unavailable` (the event store cannot be read now: retry), `internal_error`.
 */
export const channelResolveReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), channelId: z.string().min(1), username: z.string() }),
  z.object({ ok: z.literal(false), code: z.enum(CHANNEL_RESOLVE_ERROR_CODES), message: z.string() }),
]);
/** Reply of {@link CHANNEL_RESOLVE_SUBJECT}. */
export type ChannelResolveReply = z.infer<typeof channelResolveReplySchema>;
