/**
 * Commands, events and state of the chat room aggregate (stream `chat-<channelId>`). See docs/chat.md.
 */
import { defaultChatSettings, type ChatRole, type ChatSettings } from '@eventcast/events';
import type { EventOf } from '../decider.js';
import { emptyIdSet, type IdSet } from './id-set.js';
import { emptyMessageIndex, type MessageIndex } from './message-index.js';

/** A user acting or acted upon: account id and username. */
export interface ChatUser {
  id: string;
  name: string;
}

/** The room's channel: id, username (for routing on the edge) and the owner's account id (= channel id today). */
export interface ChatChannel {
  id: string;
  username: string;
  ownerId: string;
}

/** Emote image types accepted (the `ChannelEmoteAdded` schema). */
export type EmoteContentType = 'image/png' | 'image/gif' | 'image/webp';
/** What a blocked term does to a message. */
export type BlockedTermAction = 'mask' | 'refuse';

/** Fields of every moderation command: the room and who acts. */
interface Moderation {
  channel: ChatChannel;
  actor: ChatUser;
}

export type ChatRoomCommand =
  | {
      type: 'SendChatMessage';
      messageId: string;
      sender: ChatUser;
      text: string;
      now: Date;
      /** Whether the sender follows the channel (the handler reads it from `follows-<channelId>`). */
      follows: boolean;
      channel: ChatChannel;
      /**
       * Set when the channel's bot sends with an API token: the sender must be the channel owner (the bot speaks for
       * the owner, under the owner's rules) and the message carries `bot` (token id, display name).
       */
      bot?: { tokenId: string; name: string } | undefined;
    }
  | (Moderation & { type: 'DeleteChatMessage'; messageId: string; reason?: string | undefined })
  | (Moderation & { type: 'ClearChat' })
  | (Moderation & { type: 'TimeOutUser'; target: ChatUser; durationSeconds: number; reason?: string | undefined; now: Date })
  | (Moderation & { type: 'BanUser'; target: ChatUser; reason?: string | undefined })
  | (Moderation & { type: 'UnbanUser'; target: ChatUser })
  | (Moderation & { type: 'AddModerator'; target: ChatUser })
  | (Moderation & { type: 'RemoveModerator'; target: ChatUser })
  | (Moderation & { type: 'ChangeChatSettings'; settings: Partial<ChatSettings> })
  | (Moderation & { type: 'UpdateBlockedTerms'; terms: readonly string[]; action: BlockedTermAction })
  | (Moderation & { type: 'AddEmote'; code: string; contentType: EmoteContentType; imageBase64: string })
  | (Moderation & { type: 'RemoveEmote'; code: string });

/** The moderation commands of a chat room: every command but sending a message (moderation.ts decides them). */
export type ChatModerationCommand = Exclude<ChatRoomCommand, { type: 'SendChatMessage' }>;

export type ChatRoomEvent = EventOf<
  | 'ChatMessageSent'
  | 'ChatMessageRefused'
  | 'ChatMessageDeleted'
  | 'ChatCleared'
  | 'ChatUserTimedOut'
  | 'ChatUserBanned'
  | 'ChatUserUnbanned'
  | 'ChatModeratorAdded'
  | 'ChatModeratorRemoved'
  | 'ChatSettingsChanged'
  | 'ChatBlockedTermsUpdated'
  | 'ChannelEmoteAdded'
  | 'ChannelEmoteRemoved'
>;

/**
 * State of a chat room. Everything is bounded: `recentSends` keeps, per viewer, only the send times (epoch ms) still
 * inside max(rate-limit window, slow mode) of the latest send (at most 100 each, the largest possible rate limit), and
 * per bot token those inside the bot rate limit's 30 s;
 * `messages` remembers the last ≤ 1000 messages for deletion; `timeouts` drops expired entries as sends go by.
 */
export interface ChatRoomState {
  settings: ChatSettings;
  moderators: ReadonlySet<string>;
  bans: IdSet;
  /** User id → timeout end (epoch ms). */
  timeouts: ReadonlyMap<string, number>;
  blockedTerms: readonly string[];
  blockedAction: BlockedTermAction;
  /** Compiled from `blockedTerms` (see blocked-terms.ts); null when there are none. */
  blockedPattern: RegExp | null;
  emotes: ReadonlySet<string>;
  /**
   * Viewer id, or `bot:<token id>` for the channel's bot, → recent send times (epoch ms, ascending). Owner and
   * moderators themselves are not tracked.
   */
  recentSends: ReadonlyMap<string, readonly number[]>;
  messages: MessageIndex;
}

/** The state of a room without events. */
export function initialChatRoomState(): ChatRoomState {
  return {
    settings: defaultChatSettings,
    moderators: new Set(),
    bans: emptyIdSet,
    timeouts: new Map(),
    blockedTerms: [],
    blockedAction: 'mask',
    blockedPattern: null,
    emotes: new Set(),
    recentSends: new Map(),
    messages: emptyMessageIndex,
  };
}

/** Role of `userId` in the room: the channel owner, a moderator, or a viewer. */
export function chatRoleOf(state: ChatRoomState, channel: ChatChannel, userId: string): ChatRole {
  if (userId === channel.ownerId) return 'owner';
  return state.moderators.has(userId) ? 'moderator' : 'viewer';
}
