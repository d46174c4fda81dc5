/**
 * Moderation commands of a chat room (docs/chat.md): the owner and moderators may delete, clear, time out, ban,
 * unban, change settings and blocked terms; only the owner adds/removes moderators and emotes; nobody may ban or time
 * out the owner; moderators may not ban or time out other moderators (as on Twitch). Violations: `forbidden`, with the
 * refusal's {@link ModerationRefusal} (@eventcast/contracts) in `details.reason` and a sentence saying why as the message.
 * Repeating a ban, unban, moderator change or identical settings records nothing (idempotent).
 */
import { EMOTE_CODE_PATTERN, EMOTE_MAX_BYTES, findTextProblem, type ModerationRefusal } from '@eventcast/contracts';
import { chatSettingsSchema, type ChatSettings } from '@eventcast/events';
import { assertNever, DomainError } from '../decider.js';
import { compileBlockedTerms, MAX_BLOCKED_TERM_LENGTH, MAX_BLOCKED_TERMS, normalizeBlockedTerms } from './blocked-terms.js';
import { chatRoleOf, type ChatChannel, type ChatModerationCommand, type ChatRoomEvent, type ChatRoomState, type ChatUser } from './chat-room.types.js';
import { idSetHas } from './id-set.js';
import { senderOf } from './message-index.js';

/**
 * Largest emote image, decoded (64 KiB: `EMOTE_MAX_BYTES` of @eventcast/contracts, which the web checks too), so the
 * event store alone can rebuild the emote read model.
 */
export const MAX_EMOTE_BYTES = EMOTE_MAX_BYTES;
/** Longest timeout: 14 days (Twitch's maximum), in seconds. */
export const MAX_TIMEOUT_SECONDS = 1_209_600;
/** Longest moderation reason kept (the event schemas' `max`). */
export const MAX_REASON_LENGTH = 200;

const EMOTE_CODE = EMOTE_CODE_PATTERN;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Refuses a moderation command: `forbidden` with the refusal code in `details.reason` and `message` saying why. */
function forbidden(reason: ModerationRefusal, message: string): never {
  throw new DomainError('forbidden', message, { reason });
}

type OwnerCommand = 'AddModerator' | 'RemoveModerator' | 'AddEmote' | 'RemoveEmote';

/** What owners and moderators may do, as a refusal names it ("only the owner and moderators may ban users"). */
const MODERATOR_ACTION = {
  DeleteChatMessage: 'delete messages',
  ClearChat: 'clear the chat',
  TimeOutUser: 'time out users',
  BanUser: 'ban users',
  UnbanUser: 'unban users',
  ChangeChatSettings: 'change chat settings',
  UpdateBlockedTerms: 'change blocked terms',
} as const satisfies Record<Exclude<ChatModerationCommand['type'], OwnerCommand>, string>;

/** What only the owner does, as a refusal names it ("only the channel owner adds moderators"). */
const OWNER_ACTION = {
  AddModerator: 'adds moderators',
  RemoveModerator: 'removes moderators',
  AddEmote: 'adds emotes',
  RemoveEmote: 'removes emotes',
} as const satisfies Record<OwnerCommand, string>;

function requireModerator(state: ChatRoomState, channel: ChatChannel, actor: ChatUser, command: keyof typeof MODERATOR_ACTION): void {
  if (chatRoleOf(state, channel, actor.id) === 'viewer') {
    forbidden('not_moderator', `you are not a moderator of this channel: only the owner and moderators may ${MODERATOR_ACTION[command]}`);
  }
}

function requireOwner(channel: ChatChannel, actor: ChatUser, command: OwnerCommand): void {
  if (actor.id !== channel.ownerId) forbidden('owner_only', `only the channel owner ${OWNER_ACTION[command]}`);
}

/** Ban/time-out permission: a moderator at least; never the owner; a moderator only by the owner. */
function requireCanSanction(state: ChatRoomState, channel: ChatChannel, actor: ChatUser, target: ChatUser, command: 'TimeOutUser' | 'BanUser'): void {
  requireModerator(state, channel, actor, command);
  const act = command === 'BanUser' ? 'ban' : 'time out';
  if (target.id === channel.ownerId) {
    forbidden('target_is_owner', actor.id === channel.ownerId ? `the channel owner cannot ${act} themselves` : `moderators cannot ${act} the channel owner`);
  }
  if (state.moderators.has(target.id) && actor.id !== channel.ownerId) {
    forbidden('target_is_moderator', `moderators cannot ${act} other moderators: only the channel owner can`);
  }
}

/**
 * A moderation reason as stored: trimmed, at most {@link MAX_REASON_LENGTH} UTF-16 code units (never cutting a
 * surrogate pair in two).
 * @throws {DomainError} `invalid_request` when it breaks the text rule of `@eventcast/contracts`.
 */
function reasonOf(reason: string | undefined): string {
  const problem = findTextProblem(reason ?? '');
  if (problem) throw new DomainError('invalid_request', `reason ${problem.reason}; such characters are not allowed`);
  const r = (reason ?? '').trim();
  if (r.length <= MAX_REASON_LENGTH) return r;
  const cut = r.slice(0, MAX_REASON_LENGTH);
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** Decoded size in bytes of a base64 string. */
export function base64DecodedBytes(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - padding;
}

function settingsEqual(a: ChatSettings, b: ChatSettings): boolean {
  return (Object.keys(a) as (keyof ChatSettings)[]).every((k) => a[k] === b[k]);
}

/**
 * Decides a moderation command.
 * @throws {DomainError} `forbidden` (`details.reason`: a {@link ModerationRefusal}); `message_not_found` (not among the last ≤ 1000 messages, or already deleted or
 *   cleared); `invalid_duration`; `invalid_settings`; `invalid_terms`; `invalid_emote`, `emote_too_large`,
 *   `emote_exists`, `emote_not_found`.
 */
export function decideModeration(command: ChatModerationCommand, state: ChatRoomState): ChatRoomEvent[] {
  const { channel, actor } = command;
  const room = { channelId: channel.id, username: channel.username };
  const by = { ...room, moderatorId: actor.id, moderatorName: actor.name };
  switch (command.type) {
    case 'DeleteChatMessage': {
      requireModerator(state, channel, actor, command.type);
      const senderId = senderOf(state.messages, command.messageId);
      if (senderId === undefined) throw new DomainError('message_not_found', 'no such message (or it was already deleted)');
      return [{ type: 'ChatMessageDeleted', data: { ...by, messageId: command.messageId, senderId, reason: reasonOf(command.reason) } }];
    }
    case 'ClearChat':
      requireModerator(state, channel, actor, command.type);
      return [{ type: 'ChatCleared', data: by }];
    case 'TimeOutUser': {
      requireCanSanction(state, channel, actor, command.target, command.type);
      const d = command.durationSeconds;
      if (!Number.isInteger(d) || d < 1 || d > MAX_TIMEOUT_SECONDS) {
        throw new DomainError('invalid_duration', `durationSeconds must be an integer from 1 to ${MAX_TIMEOUT_SECONDS}`);
      }
      const until = new Date(command.now.getTime() + d * 1000).toISOString();
      const target = { userId: command.target.id, userName: command.target.name };
      return [{ type: 'ChatUserTimedOut', data: { ...by, ...target, durationSeconds: d, until, reason: reasonOf(command.reason) } }];
    }
    case 'BanUser': {
      requireCanSanction(state, channel, actor, command.target, command.type);
      if (idSetHas(state.bans, command.target.id)) return [];
      const target = { userId: command.target.id, userName: command.target.name };
      const events: ChatRoomEvent[] = [];
      // A banned moderator stops being one (only the owner can get here for a moderator).
      if (state.moderators.has(command.target.id)) events.push({ type: 'ChatModeratorRemoved', data: { ...by, ...target } });
      events.push({ type: 'ChatUserBanned', data: { ...by, ...target, reason: reasonOf(command.reason) } });
      return events;
    }
    case 'UnbanUser':
      requireModerator(state, channel, actor, command.type);
      if (!idSetHas(state.bans, command.target.id)) return [];
      return [{ type: 'ChatUserUnbanned', data: { ...by, userId: command.target.id, userName: command.target.name } }];
    case 'AddModerator':
      requireOwner(channel, actor, command.type);
      if (command.target.id === channel.ownerId) forbidden('target_is_owner_moderator', 'the channel owner cannot be made a moderator');
      if (idSetHas(state.bans, command.target.id)) forbidden('target_banned', `${command.target.name} is banned: unban them before making them a moderator`);
      if (state.moderators.has(command.target.id)) return [];
      return [{ type: 'ChatModeratorAdded', data: { ...by, userId: command.target.id, userName: command.target.name } }];
    case 'RemoveModerator':
      requireOwner(channel, actor, command.type);
      if (!state.moderators.has(command.target.id)) return [];
      return [{ type: 'ChatModeratorRemoved', data: { ...by, userId: command.target.id, userName: command.target.name } }];
    case 'ChangeChatSettings': {
      requireModerator(state, channel, actor, command.type);
      const given = Object.fromEntries(Object.entries(command.settings).filter(([, v]) => v !== undefined));
      const parsed = chatSettingsSchema.safeParse({ ...state.settings, ...given });
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        throw new DomainError('invalid_settings', `invalid chat settings: ${issues}`);
      }
      if (settingsEqual(parsed.data, state.settings)) return [];
      return [{ type: 'ChatSettingsChanged', data: { ...by, settings: parsed.data } }];
    }
    case 'UpdateBlockedTerms': {
      requireModerator(state, channel, actor, command.type);
      const terms = normalizeBlockedTerms(command.terms);
      if (terms.length > MAX_BLOCKED_TERMS) throw new DomainError('invalid_terms', `at most ${MAX_BLOCKED_TERMS} blocked terms`);
      if (terms.some((t) => t.length > MAX_BLOCKED_TERM_LENGTH)) throw new DomainError('invalid_terms', `a blocked term is at most ${MAX_BLOCKED_TERM_LENGTH} characters`);
      for (const t of terms) {
        const problem = findTextProblem(t);
        if (problem) throw new DomainError('invalid_terms', `a blocked term ${problem.reason}; such characters are not allowed`);
      }
      try {
        compileBlockedTerms(terms); // compiled here, where a failure is a refusal, never first inside the fold
      } catch {
        throw new DomainError('invalid_terms', 'the blocked terms cannot be matched');
      }
      return [{ type: 'ChatBlockedTermsUpdated', data: { ...by, terms, action: command.action } }];
    }
    case 'AddEmote': {
      requireOwner(channel, actor, command.type);
      if (!EMOTE_CODE.test(command.code)) throw new DomainError('invalid_emote', 'an emote code is 2–32 characters of A-Z, a-z, 0-9 and _');
      if (!BASE64.test(command.imageBase64) || command.imageBase64.length % 4 !== 0 || command.imageBase64.length === 0) {
        throw new DomainError('invalid_emote', 'imageBase64 must be non-empty standard base64');
      }
      if (base64DecodedBytes(command.imageBase64) > MAX_EMOTE_BYTES) throw new DomainError('emote_too_large', 'an emote image is at most 64 KiB');
      if (state.emotes.has(command.code)) throw new DomainError('emote_exists', `emote :${command.code}: already exists`);
      return [{ type: 'ChannelEmoteAdded', data: { ...by, code: command.code, contentType: command.contentType, imageBase64: command.imageBase64 } }];
    }
    case 'RemoveEmote':
      requireOwner(channel, actor, command.type);
      if (!state.emotes.has(command.code)) throw new DomainError('emote_not_found', `no emote :${command.code}:`);
      return [{ type: 'ChannelEmoteRemoved', data: { ...by, code: command.code } }];
    default:
      return assertNever(command);
  }
}
