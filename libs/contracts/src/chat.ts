/**
 * Chat contracts (docs/chat.md): chat roles and room settings with their defaults, the refusal codes of a chat send,
 * the NATS `chat.send` request/reply between the realtime edge and command-api, and the query-api HTTP read shapes
 * of chat (history, settings, roles, blocked terms, moderation log, emotes).
 *
 * The chat room aggregate (libs/domain) refuses with these codes, command-api replies with them (HTTP and NATS), the
 * realtime edge forwards them in `error` frames and the web shows a sentence per code. Browser-safe: zod only.
 */
import { z } from './zod.js';
import { chatNonceSchema } from './idempotency.js';
import type { ModerationLogEntry } from './moderation.js';

/** Role of a chatter in a channel's chat room. */
export const chatRoleSchema = z.enum(['owner', 'moderator', 'viewer']);
/** One of {@link chatRoleSchema}: `owner`, `moderator` or `viewer`. */
export type ChatRole = z.infer<typeof chatRoleSchema>;

/** Chat room settings; defaults in {@link DEFAULT_CHAT_SETTINGS}. */
export const chatSettingsSchema = z.object({
  /** Chat on/off; when off only the owner and moderators may write. */
  enabled: z.boolean(),
  /** Minimum seconds between two messages of one non-moderator (0 = off). */
  slowModeSeconds: z.number().int().min(0).max(3600),
  /** Only followers may write (owner and moderators always may). */
  followersOnly: z.boolean(),
  /** Seconds a non-moderator's message is held before viewers see it (Twitch: 0, 2, 4 or 6). */
  messageDelaySeconds: z.union([z.literal(0), z.literal(2), z.literal(4), z.literal(6)]),
  /** Only messages made of the channel's emotes (`:code:`) and whitespace. */
  emoteOnly: z.boolean(),
  /** Per-user rate limit for non-moderators: at most `rateLimitMessages` in `rateLimitWindowSeconds` (seed 002: 5 / 10 s). */
  rateLimitMessages: z.number().int().min(1).max(100),
  rateLimitWindowSeconds: z.number().int().min(1).max(3600),
});
/** See {@link chatSettingsSchema}. */
export type ChatSettings = z.infer<typeof chatSettingsSchema>;

/** Settings of a chat room nobody changed yet (the aggregate's initial state; the web's form defaults). */
export const DEFAULT_CHAT_SETTINGS: Readonly<ChatSettings> = Object.freeze({
  enabled: true,
  slowModeSeconds: 0,
  followersOnly: false,
  messageDelaySeconds: 0,
  emoteOnly: false,
  rateLimitMessages: 5,
  rateLimitWindowSeconds: 10,
});

/** Emote images: PNG, GIF or WebP, at most this many bytes decoded (64 KiB). */
export const EMOTE_MAX_BYTES = 64 * 1024;
/** An emote code: 2–32 characters `A-Z`, `a-z`, `0-9`, `_` (written `:code:` in chat). */
export const EMOTE_CODE_PATTERN = /^[A-Za-z0-9_]{2,32}$/;

/**
 * Codes of a refused chat send (docs/chat.md "NATS request/reply"): decided by the chat room aggregate (`banned` …
 * `blocked_term`), by command-api (`channel_not_found`, `invalid_request`, `internal_error`, `unavailable`: the event
 * store could not be reached, nothing was sent, retry). `rate_limited`, `slow_mode`, `timed_out` and `unavailable`
 * carry `retryAfterMs` when known.
 */
export const CHAT_REFUSAL_CODES = [
  'banned',
  'timed_out',
  'empty',
  'too_long',
  'chat_disabled',
  'followers_only',
  'emote_only',
  'slow_mode',
  'rate_limited',
  'blocked_term',
  'channel_not_found',
  'invalid_request',
  'internal_error',
  'unavailable',
] as const;
/** One of {@link CHAT_REFUSAL_CODES}. */
export type ChatRefusalCode = (typeof CHAT_REFUSAL_CODES)[number];

const REFUSAL_SET: ReadonlySet<string> = new Set(CHAT_REFUSAL_CODES);

/** True when `code` is one of {@link CHAT_REFUSAL_CODES}. */
export function isChatRefusalCode(code: unknown): code is ChatRefusalCode {
  return typeof code === 'string' && REFUSAL_SET.has(code);
}

/** A username as stored: 3–24 characters `a-z`, `0-9`, `_`. */
const storedUsername = z
  .string()
  .min(3, 'username must be at least 3 characters')
  .max(24, 'username must be at most 24 characters')
  .regex(/^[a-z0-9_]+$/, 'username may contain only a-z, 0-9 and _');

/**
 * Body of the NATS `chat.send` request (realtime → command-api): the channel, the sender as authenticated by the edge,
 * the raw text (the edge caps frames at 4 KiB; emptiness and the 500-character limit are chat rules answered with
 * `empty` / `too_long`), and the client's `nonce` (optional; with it the send is idempotent per sender for 24 h).
 */
export const chatSendRequestSchema = z.object({
  channelId: z.uuid(),
  senderId: z.uuid(),
  senderName: storedUsername,
  text: z.string().max(8192),
  nonce: chatNonceSchema.optional(),
  correlationId: z.string().optional(),
});
/** See {@link chatSendRequestSchema}. */
export type ChatSendRequest = z.infer<typeof chatSendRequestSchema>;

/**
 * Reply of `chat.send`: the ack (`messageId`, `visibleAt` ISO-8601: when viewers see it, after the room's delay) or a
 * refusal with its code, a sentence, and `retryAfterMs` (milliseconds) when a retry may succeed later.
 */
export type ChatSendReply =
  | { ok: true; messageId: string; visibleAt: string }
  | { ok: false; code: ChatRefusalCode; message: string; retryAfterMs?: number };

/**
 * Reads a `chat.send` reply as the edge receives it (JSON from another process). A refusal whose `code` is not one of
 * {@link CHAT_REFUSAL_CODES} (a newer command side) becomes `internal_error` with its message kept; a missing message
 * becomes the code; a `retryAfterMs` that is not a finite number ≥ 0 is dropped.
 * @returns the reply, or null when `value` is neither an ack (string `messageId` and `visibleAt`) nor a refusal
 *   (`ok: false` with a string `code`).
 */
export function parseChatSendReply(value: unknown): ChatSendReply | null {
  if (typeof value !== 'object' || value === null) return null;
  const o = value as Record<string, unknown>;
  if (o['ok'] === true) {
    const { messageId, visibleAt } = o;
    return typeof messageId === 'string' && typeof visibleAt === 'string' ? { ok: true, messageId, visibleAt } : null;
  }
  if (o['ok'] !== false || typeof o['code'] !== 'string') return null;
  const code = isChatRefusalCode(o['code']) ? o['code'] : 'internal_error';
  const reply: ChatSendReply = { ok: false, code, message: typeof o['message'] === 'string' ? o['message'] : code };
  const retry = o['retryAfterMs'];
  if (typeof retry === 'number' && Number.isFinite(retry) && retry >= 0) reply.retryAfterMs = retry;
  return reply;
}

/** Most `chat.send` requests in one `chat.send-batch` request. */
export const CHAT_SEND_BATCH_MAX = 256;

/**
 * Body of the NATS `chat.send-batch` request (realtime → command-api; docs/chat.md "NATS request/reply"): the
 * `chat.send` requests an edge received in one turn of its event loop, sent as one NATS request (one message each way
 * instead of one per chat message: measured in bench/results/command-path.md), and `budgetMs`, how long the edge still
 * waits for the reply. Command-api answers each request as `chat.send` would, in order, except that a request not yet
 * decided when `budgetMs` has passed since the batch arrived is answered `unavailable` (with `retryAfterMs`) without
 * being decided: under overload the command side sheds work whose sender has already given up instead of falling
 * further behind. Each request is validated on its own (`chatSendRequestSchema`): a malformed one is refused
 * `invalid_request` and does not disturb the others.
 */
export const chatSendBatchRequestSchema = z.object({
  requests: z.array(z.unknown()).min(1).max(CHAT_SEND_BATCH_MAX),
  /** Milliseconds, 1–60,000. */
  budgetMs: z.number().int().min(1).max(60_000),
});
/** What the edge sends (see {@link chatSendBatchRequestSchema}). */
export interface ChatSendBatchRequest {
  requests: ChatSendRequest[];
  budgetMs: number;
}

/**
 * Reply of `chat.send-batch`: one `chat.send` reply per request, in the order of the requests; or, when the batch
 * itself is malformed (not an object, no or too many requests, bad `budgetMs`), one refusal for all of them.
 */
export type ChatSendBatchReply = { ok: true; replies: ChatSendReply[] } | { ok: false; code: ChatRefusalCode; message: string };

/**
 * Reads a `chat.send-batch` reply for `count` requests: the batch's refusal is repeated for each request; each reply
 * is read with {@link parseChatSendReply}.
 * @returns one reply per request, or null when the reply is malformed (not one of the two shapes, another number of
 *   replies than `count`, or a reply `parseChatSendReply` refuses).
 */
export function parseChatSendBatchReply(value: unknown, count: number): ChatSendReply[] | null {
  if (typeof value !== 'object' || value === null) return null;
  const o = value as Record<string, unknown>;
  if (o['ok'] === false) {
    const refusal = parseChatSendReply(o);
    return refusal ? Array.from({ length: count }, () => refusal) : null;
  }
  const replies = o['replies'];
  if (o['ok'] !== true || !Array.isArray(replies) || replies.length !== count) return null;
  const out: ChatSendReply[] = [];
  for (const r of replies) {
    const reply = parseChatSendReply(r);
    if (!reply) return null;
    out.push(reply);
  }
  return out;
}

// ---- query-api HTTP (docs/chat.md "query-api HTTP") -------------------------------------------------------------

/** One visible chat message (`GET /channels/:username/chat/messages`). Times ISO-8601, `globalPosition` decimal. */
export interface ChatMessageView {
  id: string;
  senderId: string;
  senderName: string;
  senderRole: ChatRole;
  /** Plain text (never HTML), after blocked-term masking. */
  text: string;
  sentAt: string;
  visibleAt: string;
  globalPosition: string;
  /** Sent by the channel's bot with an API token (sender = the owner): show `bot.name` with a bot badge. */
  bot?: { name: string } | null;
}

/** A page of chat history, newest first. */
export interface ChatHistory {
  messages: ChatMessageView[];
  /** `before` of the next (older) page; null on the last page. */
  nextBefore: string | null;
  /** Global position the chat read model had reached when read (see the realtime `subscribed` frame). */
  position?: string;
}

/** A user reference: account id and username. */
export interface UserRef {
  id: string;
  username: string;
}

/** Public chat settings and the moderators (`GET /channels/:username/chat/settings`). */
export interface ChatSettingsView {
  settings: ChatSettings;
  moderators: UserRef[];
}

/** A user's standing in a channel's chat (`GET /channels/:username/chat/roles/:user`). */
export interface ChatRoleView {
  role: ChatRole;
  banned: boolean;
  /** End of a running timeout (ISO-8601), else null. */
  timedOutUntil: string | null;
  follows: boolean;
}

/** What happens to a message containing a blocked term. */
export const blockedTermActionSchema = z.enum(['mask', 'refuse']);
/** See {@link blockedTermActionSchema}. */
export type BlockedTermAction = z.infer<typeof blockedTermActionSchema>;

/** Blocked terms (lower-case) and their action (`GET`/`PUT /channels/:username/chat/blocked-terms`). */
export interface BlockedTerms {
  terms: string[];
  action: BlockedTermAction;
}

/** A page of the moderation log, newest first. */
export interface ModerationLog {
  entries: ModerationLogEntry[];
  nextBefore: string | null;
}

/** An emote and the URL (absolute, or a path on query-api) of its image. */
export interface Emote {
  code: string;
  url: string;
}

/** The channel's emotes (`GET /channels/:username/emotes`). */
export interface EmoteList {
  emotes: Emote[];
}

/** Number of followers (`GET /channels/:username/followers`). */
export interface FollowerCount {
  count: number;
}
