/**
 * The send rules of a chat room, in the order of docs/chat.md (rules after Twitch's chat settings: followers-only,
 * emote-only, slow mode, message delay; rate limit from seed 002: 5 messages / 10 s per user):
 * 1. banned → `banned`; timed out (until > now) → `timed_out` (`retryAfterMs`).
 * 2. trimmed text empty → `empty`; longer than 500 user-perceived characters (graphemes, `Intl.Segmenter`, as Twitch
 *    counts) or than 4000 UTF-16 code units → `too_long` (limits and the text rule: `@eventcast/contracts` text.ts).
 * 3. owner and moderators skip 4–8. The owner's bot (an API token with `chat:send`) is held to {@link BOT_RATE_LIMIT}
 *    per token instead (Twitch's limit for a bot that is the broadcaster or a moderator: 100 messages per 30 s).
 *    → `rate_limited` (`retryAfterMs`).
 * 4. chat disabled → `chat_disabled`; followers-only and not following → `followers_only`; emote-only and anything
 *    but the channel's `:code:`s and whitespace → `emote_only`.
 * 5. slow mode → `slow_mode` (`retryAfterMs`). 6. rate limit → `rate_limited` (`retryAfterMs`).
 * 7a. text the text rule refuses (C0/C1 controls, bidi overrides/isolates, unpaired surrogates; issue 9): a
 *    `ChatMessageRefused` event with reason `invalid_text` and without the text (the caller answers `invalid_request`
 *    with the reason); it counts toward 5–6, so a flood of such sends ends in `rate_limited`. The owner, moderators and
 *    bots (exempt from 5–6) get `invalid_request` without an event.
 * 7. blocked terms: `refuse` → a `ChatMessageRefused` event (the caller answers `blocked_term`; it counts toward 5–6
 *    like a send, so refused attempts cannot flood the log); `mask` → `*`s.
 * 8. visibleAt = now + messageDelaySeconds for viewers, now for the owner and moderators.
 */
import { CHAT_MESSAGE_MAX_CODE_UNITS, CHAT_MESSAGE_MAX_LENGTH, findTextProblem, graphemeLength, type ChatRefusalCode } from '@eventcast/contracts';
import { DomainError } from '../decider.js';
import { hasBlockedTerm, maskBlockedTerms } from './blocked-terms.js';
import { chatRoleOf, type ChatRoomCommand, type ChatRoomEvent, type ChatRoomState } from './chat-room.types.js';
import { idSetHas } from './id-set.js';

type SendCommand = Extract<ChatRoomCommand, { type: 'SendChatMessage' }>;

const EMOTE_TOKEN = /:([A-Za-z0-9_]{2,32}):/g;

/** True when `text` is only `:code:`s of `emotes` and whitespace. */
export function isEmoteOnly(text: string, emotes: ReadonlySet<string>): boolean {
  const rest = text.replace(EMOTE_TOKEN, (m: string, code: string) => (emotes.has(code) ? ' ' : m));
  return rest.trim().length === 0;
}

/**
 * Messages per window a channel bot may send, per API token (Twitch's chat limit for broadcaster and moderator
 * accounts, "Rate limits" of dev.twitch.tv/docs/chat: 100 messages per 30 seconds).
 */
export const BOT_RATE_LIMIT = { messages: 100, windowMs: 30_000 } as const;

/** Key of a bot token's send times in `ChatRoomState.recentSends` (never a user id: those are UUIDs). */
export const botSendsKey = (tokenId: string): string => `bot:${tokenId}`;

/** Epoch ms at which a viewer with these recent sends may send again under the rate limit, or null when now. */
function rateLimitedUntil(sends: readonly number[], now: number, limit: number, windowMs: number): number | null {
  const inWindow = sends.filter((t) => t > now - windowMs);
  if (inWindow.length < limit) return null;
  // The oldest send that must leave the window before one more fits.
  const blocking = inWindow[inWindow.length - limit] ?? now;
  return blocking + windowMs;
}

/**
 * Why the text rule (`@eventcast/contracts` text.ts) refuses a chat message's trimmed `text`, in words for the sender
 * ("text contains U+0000, a control character; …"), or null when it is clean.
 */
export function chatTextProblem(text: string): string | null {
  const problem = findTextProblem(text);
  return problem ? `text ${problem.reason}; such characters are not allowed` : null;
}

/**
 * A refused send with one of the contract's codes (`CHAT_REFUSAL_CODES` of @eventcast/contracts: command-api replies
 * with it over NATS and HTTP, the realtime edge forwards it, the web words it), so a code the others do not know is a
 * compile error. `details.retryAfterMs` (ms) for the time-based ones.
 */
function refusal(code: ChatRefusalCode, message: string, details?: { retryAfterMs: number }): DomainError {
  return new DomainError(code, message, details);
}

/**
 * Decides a `SendChatMessage`.
 * @returns `[ChatMessageSent]`, or `[ChatMessageRefused]` for a refuse-mode blocked term (reason `blocked_term`) or
 *   a viewer's text that the text rule refuses (reason `invalid_text`; the text is not kept).
 * @throws {DomainError} `banned`, `timed_out`, `empty`, `too_long`, `invalid_request` (text rule; owner, moderators,
 *   bots), `chat_disabled`, `followers_only`, `emote_only`,
 *   `slow_mode`, `rate_limited` (also for a bot over {@link BOT_RATE_LIMIT}), `forbidden` (a bot of someone else than
 *   the owner); the time-based ones carry `details.retryAfterMs` (ms, ≥ 1).
 */
export function decideSend(command: SendCommand, state: ChatRoomState): ChatRoomEvent[] {
  const { sender, channel, messageId } = command;
  const now = command.now.getTime();
  const room = { channelId: channel.id, username: channel.username };

  if (idSetHas(state.bans, sender.id)) throw refusal('banned', 'you are banned from this chat');
  const until = state.timeouts.get(sender.id);
  if (until !== undefined && until > now) {
    throw refusal('timed_out', 'you are timed out in this chat', { retryAfterMs: until - now });
  }

  const text = command.text.trim();
  if (text.length === 0) throw refusal('empty', 'the message is empty');
  if (text.length > CHAT_MESSAGE_MAX_CODE_UNITS || graphemeLength(text) > CHAT_MESSAGE_MAX_LENGTH) {
    throw refusal('too_long', `the message is longer than ${CHAT_MESSAGE_MAX_LENGTH} characters`);
  }
  const problem = chatTextProblem(text);

  const role = chatRoleOf(state, channel, sender.id);
  const bot = command.bot;
  // `forbidden` is not a chat.send code: bots send over HTTP only (API tokens), where it is the usual 403.
  if (bot && sender.id !== channel.ownerId) throw new DomainError('forbidden', "only the channel owner's bot may send as a bot");
  const sent = (finalText: string, maskedTerms: number, visibleAt: number): ChatRoomEvent[] => [
    {
      type: 'ChatMessageSent',
      data: {
        ...room,
        messageId,
        senderId: sender.id,
        senderName: sender.name,
        senderRole: role,
        text: finalText,
        maskedTerms,
        sentAt: new Date(now).toISOString(),
        visibleAt: new Date(visibleAt).toISOString(),
        ...(bot ? { bot: { tokenId: bot.tokenId, name: bot.name } } : {}),
      },
    },
  ];
  if (bot) {
    const limitedUntil = rateLimitedUntil(state.recentSends.get(botSendsKey(bot.tokenId)) ?? [], now, BOT_RATE_LIMIT.messages, BOT_RATE_LIMIT.windowMs);
    if (limitedUntil !== null) {
      throw refusal('rate_limited', `a bot may send at most ${BOT_RATE_LIMIT.messages} messages per ${BOT_RATE_LIMIT.windowMs / 1000} s`, {
        retryAfterMs: Math.max(1, limitedUntil - now),
      });
    }
  }
  if (problem) {
    if (role !== 'viewer' || bot) throw refusal('invalid_request', problem);
  }
  if (role !== 'viewer') return sent(text, 0, now);

  const s = state.settings;
  if (!s.enabled) throw refusal('chat_disabled', 'the chat is disabled');
  if (s.followersOnly && !command.follows) throw refusal('followers_only', 'only followers may chat');
  if (s.emoteOnly && !isEmoteOnly(text, state.emotes)) throw refusal('emote_only', 'only emotes are allowed');

  const sends = state.recentSends.get(sender.id) ?? [];
  const last = sends.at(-1);
  if (s.slowModeSeconds > 0 && last !== undefined && now - last < s.slowModeSeconds * 1000) {
    throw refusal('slow_mode', `slow mode: one message every ${s.slowModeSeconds} s`, { retryAfterMs: last + s.slowModeSeconds * 1000 - now });
  }
  const limitedUntil = rateLimitedUntil(sends, now, s.rateLimitMessages, s.rateLimitWindowSeconds * 1000);
  if (limitedUntil !== null) {
    throw refusal('rate_limited', `at most ${s.rateLimitMessages} messages per ${s.rateLimitWindowSeconds} s`, {
      retryAfterMs: Math.max(1, limitedUntil - now),
    });
  }

  if (problem) {
    return [{ type: 'ChatMessageRefused', data: { ...room, senderId: sender.id, senderName: sender.name, reason: 'invalid_text', refusedAt: new Date(now).toISOString() } }];
  }
  if (state.blockedAction === 'refuse') {
    if (hasBlockedTerm(text, state.blockedPattern)) {
      return [{ type: 'ChatMessageRefused', data: { ...room, senderId: sender.id, senderName: sender.name, reason: 'blocked_term', refusedAt: new Date(now).toISOString() } }];
    }
    return sent(text, 0, now + s.messageDelaySeconds * 1000);
  }
  const masked = maskBlockedTerms(text, state.blockedPattern);
  // Masking keeps each match's graphemes, but a match cut out of a joined emoji sequence can regroup its neighbours.
  if (masked.count > 0 && graphemeLength(masked.text) > CHAT_MESSAGE_MAX_LENGTH) {
    throw refusal('too_long', `the message is longer than ${CHAT_MESSAGE_MAX_LENGTH} characters`);
  }
  return sent(masked.text, masked.count, now + s.messageDelaySeconds * 1000);
}
