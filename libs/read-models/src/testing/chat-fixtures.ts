/**
 * Builders of catalog-valid chat and follow events (validated by `newEvent`) for one channel's chat room, and a
 * user helper. Times default to now, so messages are visible at once unless `visibleAt` says otherwise.
 */
import { randomUUID } from 'node:crypto';
import { defaultChatSettings, newEvent, type ChatRole, type ChatSettings, type NewEvent } from '@eventcast/events';

/** An account: id and username. */
export interface TestUser {
  id: string;
  username: string;
}

/** A user with a fresh id. */
export function user(username: string): TestUser {
  return { id: randomUUID(), username };
}

/** A 1×1 transparent PNG, base64. */
export const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** AccountRegistered of `u` (stream `account-<id>`). */
export function registered(u: TestUser): NewEvent {
  return newEvent('AccountRegistered', { accountId: u.id, username: u.username, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' });
}

/** Event builders for the chat room and follows of `owner`'s channel; `mod` is whoever acts. */
export function chatRoom(owner: TestUser) {
  const room = { channelId: owner.id, username: owner.username };
  const actor = (m: TestUser) => ({ moderatorId: m.id, moderatorName: m.username });
  const target = (u: TestUser) => ({ userId: u.id, userName: u.username });
  return {
    /** ChatMessageSent; `messageId` is returned in `data.messageId`. */
    message: (sender: TestUser, text: string, opts: { role?: ChatRole; visibleAt?: Date; maskedTerms?: number } = {}) =>
      newEvent('ChatMessageSent', {
        ...room,
        messageId: randomUUID(),
        senderId: sender.id,
        senderName: sender.username,
        senderRole: opts.role ?? (sender.id === owner.id ? 'owner' : 'viewer'),
        text,
        maskedTerms: opts.maskedTerms ?? 0,
        sentAt: new Date().toISOString(),
        visibleAt: (opts.visibleAt ?? new Date()).toISOString(),
      }),
    refused: (sender: TestUser) =>
      newEvent('ChatMessageRefused', { ...room, senderId: sender.id, senderName: sender.username, reason: 'blocked_term', refusedAt: new Date().toISOString() }),
    deleted: (m: TestUser, messageId: string, senderId: string, reason = '') => newEvent('ChatMessageDeleted', { ...room, ...actor(m), messageId, senderId, reason }),
    cleared: (m: TestUser) => newEvent('ChatCleared', { ...room, ...actor(m) }),
    timedOut: (m: TestUser, u: TestUser, durationSeconds: number, reason = '') =>
      newEvent('ChatUserTimedOut', { ...room, ...actor(m), ...target(u), durationSeconds, until: new Date(Date.now() + durationSeconds * 1000).toISOString(), reason }),
    banned: (m: TestUser, u: TestUser, reason = '') => newEvent('ChatUserBanned', { ...room, ...actor(m), ...target(u), reason }),
    unbanned: (m: TestUser, u: TestUser) => newEvent('ChatUserUnbanned', { ...room, ...actor(m), ...target(u) }),
    moderatorAdded: (u: TestUser) => newEvent('ChatModeratorAdded', { ...room, ...actor(owner), ...target(u) }),
    moderatorRemoved: (u: TestUser) => newEvent('ChatModeratorRemoved', { ...room, ...actor(owner), ...target(u) }),
    settings: (m: TestUser, change: Partial<ChatSettings>) => newEvent('ChatSettingsChanged', { ...room, ...actor(m), settings: { ...defaultChatSettings, ...change } }),
    blockedTerms: (m: TestUser, terms: string[], action: 'mask' | 'refuse') => newEvent('ChatBlockedTermsUpdated', { ...room, ...actor(m), terms, action }),
    emoteAdded: (code: string, imageBase64 = PNG_1X1) => newEvent('ChannelEmoteAdded', { ...room, ...actor(owner), code, contentType: 'image/png', imageBase64 }),
    emoteRemoved: (code: string) => newEvent('ChannelEmoteRemoved', { ...room, ...actor(owner), code }),
    followed: (u: TestUser) => newEvent('ChannelFollowed', { ...room, followerId: u.id, followerName: u.username }),
    unfollowed: (u: TestUser) => newEvent('ChannelUnfollowed', { ...room, followerId: u.id, followerName: u.username }),
  };
}

/** `data.messageId` / `data.senderId` of a ChatMessageSent built by {@link chatRoom}. */
export function ids(e: NewEvent): { messageId: string; senderId: string } {
  const d = e.data as { messageId: string; senderId: string };
  return { messageId: d.messageId, senderId: d.senderId };
}
