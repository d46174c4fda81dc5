/**
 * The chat room aggregate of a channel (stream `chat-<channelId>`): messages, moderation, settings, blocked terms
 * and emotes, decided on one stream so that a send and a ban race safely under optimistic concurrency
 * (docs/chat.md). Send rules: send-message.ts; moderation rules and permissions: moderation.ts.
 */
import { assertNever, type Decider } from '../decider.js';
import { compileStoredBlockedTerms } from './blocked-terms.js';
import { initialChatRoomState, type ChatRoomCommand, type ChatRoomEvent, type ChatRoomState } from './chat-room.types.js';
import { idSetAdd, idSetDelete } from './id-set.js';
import { emptyMessageIndex, forgetMessage, indexMessage } from './message-index.js';
import { decideModeration } from './moderation.js';
import { BOT_RATE_LIMIT, botSendsKey, decideSend } from './send-message.js';

export * from './chat-room.types.js';
export { BOT_RATE_LIMIT, chatTextProblem, isEmoteOnly } from './send-message.js';
export { MAX_EMOTE_BYTES, MAX_TIMEOUT_SECONDS, base64DecodedBytes } from './moderation.js';
export { compileBlockedTerms, compileStoredBlockedTerms, maskBlockedTerms, normalizeBlockedTerms } from './blocked-terms.js';
export { MESSAGE_INDEX_CAPACITY } from './message-index.js';

/** Most send times kept per viewer or bot: the largest allowed `rateLimitMessages`, and BOT_RATE_LIMIT's messages. */
const MAX_SENDS_KEPT = 100;

/**
 * Records a send at `at` (epoch ms) by a viewer (key: the user id) or a bot token (key: {@link botSendsKey}) and drops
 * what no rule can use any more: send times older than max(rate-limit window, slow mode) before `at` for viewers and
 * older than {@link BOT_RATE_LIMIT}'s window for bots, keys with none left, and expired timeouts.
 */
function recordSend(state: ChatRoomState, key: string, at: number): ChatRoomState {
  const viewerHorizon = at - Math.max(state.settings.rateLimitWindowSeconds, state.settings.slowModeSeconds) * 1000;
  const horizonOf = (k: string): number => (k.startsWith('bot:') ? at - BOT_RATE_LIMIT.windowMs : viewerHorizon);
  const recentSends = new Map<string, readonly number[]>();
  for (const [id, times] of state.recentSends) {
    if (id !== key && (times.at(-1) ?? 0) > horizonOf(id)) recentSends.set(id, times);
  }
  const horizon = horizonOf(key);
  const own = (state.recentSends.get(key) ?? []).filter((t) => t > horizon);
  own.push(at);
  recentSends.set(key, own.slice(-MAX_SENDS_KEPT));
  let timeouts = state.timeouts;
  for (const [id, until] of state.timeouts) {
    if (until <= at) {
      const next = new Map(timeouts);
      next.delete(id);
      timeouts = next;
    }
  }
  return { ...state, recentSends, timeouts };
}

function withSet(set: ReadonlySet<string>, id: string, present: boolean): ReadonlySet<string> {
  const next = new Set(set);
  if (present) next.add(id);
  else next.delete(id);
  return next;
}

/**
 * Decider of a chat room. Errors: the chat codes of docs/chat.md (`banned`, `timed_out`, `empty`, `too_long`,
 * `chat_disabled`, `followers_only`, `emote_only`, `slow_mode`, `rate_limited`; `retryAfterMs` in `details` for the
 * time-based ones), `forbidden`, and the moderation errors of {@link decideModeration}. A refuse-mode blocked term is
 * not an error here: it is the `ChatMessageRefused` event, and the caller answers `blocked_term`.
 */
export const chatRoomDecider: Decider<ChatRoomCommand, ChatRoomEvent, ChatRoomState> = {
  initialState: initialChatRoomState,

  decide(command, state) {
    return command.type === 'SendChatMessage' ? decideSend(command, state) : decideModeration(command, state);
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ChatMessageSent': {
        const d = event.data;
        const withMessage = { ...state, messages: indexMessage(state.messages, d.messageId, d.senderId) };
        // v2 events carry the send time (v1 events are upcast with their append time: see the catalog's upcaster).
        if (d.bot) return recordSend(withMessage, botSendsKey(d.bot.tokenId), Date.parse(d.sentAt));
        if (d.senderRole !== 'viewer') return withMessage;
        return recordSend(withMessage, d.senderId, Date.parse(d.sentAt));
      }
      case 'ChatMessageRefused':
        // An attempt all the same: it counts toward the sender's rate limit and slow mode (refusals are for viewers).
        return recordSend(state, event.data.senderId, Date.parse(event.data.refusedAt));
      case 'ChatMessageDeleted':
        return { ...state, messages: forgetMessage(state.messages, event.data.messageId) };
      case 'ChatCleared':
        return { ...state, messages: emptyMessageIndex };
      case 'ChatUserTimedOut': {
        const timeouts = new Map(state.timeouts);
        timeouts.set(event.data.userId, Date.parse(event.data.until));
        return { ...state, timeouts };
      }
      case 'ChatUserBanned': {
        const timeouts = new Map(state.timeouts);
        timeouts.delete(event.data.userId);
        return { ...state, bans: idSetAdd(state.bans, event.data.userId), timeouts };
      }
      case 'ChatUserUnbanned':
        return { ...state, bans: idSetDelete(state.bans, event.data.userId) };
      case 'ChatModeratorAdded':
        return { ...state, moderators: withSet(state.moderators, event.data.userId, true) };
      case 'ChatModeratorRemoved':
        return { ...state, moderators: withSet(state.moderators, event.data.userId, false) };
      case 'ChatSettingsChanged':
        return { ...state, settings: event.data.settings };
      case 'ChatBlockedTermsUpdated':
        return { ...state, blockedTerms: event.data.terms, blockedAction: event.data.action, blockedPattern: compileStoredBlockedTerms(event.data.terms) };
      case 'ChannelEmoteAdded':
        return { ...state, emotes: withSet(state.emotes, event.data.code, true) };
      case 'ChannelEmoteRemoved':
        return { ...state, emotes: withSet(state.emotes, event.data.code, false) };
      default:
        return assertNever(event);
    }
  },
};
