/**
 * Moderation refusals say why (issue 9 item 9): each `forbidden` carries its @eventcast/contracts refusal code in
 * `details.reason` and a sentence as the message, instead of a bare "forbidden".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModerationRefusal } from '@eventcast/contracts';
import { DomainError, fold } from '../decider.js';
import { chatRoomDecider, type ChatRoomCommand, type ChatRoomEvent } from './chat-room.decider.js';

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const owner = { id: uuid(1), name: 'owner' };
const mod = { id: uuid(2), name: 'moddy' };
const mod2 = { id: uuid(3), name: 'moddy2' };
const viewer = { id: uuid(4), name: 'viewer' };
const troll = { id: uuid(5), name: 'troll' };
const channel = { id: owner.id, username: 'owner', ownerId: owner.id };
const by = { channelId: channel.id, username: channel.username, moderatorId: owner.id, moderatorName: owner.name };
const given: ChatRoomEvent[] = [
  { type: 'ChatModeratorAdded', data: { ...by, userId: mod.id, userName: mod.name } },
  { type: 'ChatModeratorAdded', data: { ...by, userId: mod2.id, userName: mod2.name } },
  { type: 'ChatUserBanned', data: { ...by, userId: troll.id, userName: troll.name, reason: '' } },
];

/** The refusal of `command` on the room of {@link given}: code, reason and message. */
function refusal(command: ChatRoomCommand): { code: string; reason: unknown; message: string } {
  try {
    chatRoomDecider.decide(command, fold(chatRoomDecider, given));
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, reason: e.details?.['reason'], message: e.message };
    throw e;
  }
  assert.fail(`${command.type} was not refused`);
}

describe('moderation refusals name their reason', () => {
  const cases: [string, ChatRoomCommand, ModerationRefusal, string][] = [
    ['a moderator bans the owner', { type: 'BanUser', channel, actor: mod, target: owner }, 'target_is_owner', 'moderators cannot ban the channel owner'],
    ['a moderator times out the owner', { type: 'TimeOutUser', channel, actor: mod, target: owner, durationSeconds: 60, now: new Date() }, 'target_is_owner', 'moderators cannot time out the channel owner'],
    ['the owner bans themselves', { type: 'BanUser', channel, actor: owner, target: owner }, 'target_is_owner', 'the channel owner cannot ban themselves'],
    ['a moderator bans a moderator', { type: 'BanUser', channel, actor: mod, target: mod2 }, 'target_is_moderator', 'moderators cannot ban other moderators: only the channel owner can'],
    ['a viewer bans', { type: 'BanUser', channel, actor: viewer, target: troll }, 'not_moderator', 'you are not a moderator of this channel: only the owner and moderators may ban users'],
    ['a viewer changes settings', { type: 'ChangeChatSettings', channel, actor: viewer, settings: { slowModeSeconds: 5 } }, 'not_moderator', 'you are not a moderator of this channel: only the owner and moderators may change chat settings'],
    ['a moderator adds a moderator', { type: 'AddModerator', channel, actor: mod, target: viewer }, 'owner_only', 'only the channel owner adds moderators'],
    ['a moderator removes a moderator', { type: 'RemoveModerator', channel, actor: mod, target: mod2 }, 'owner_only', 'only the channel owner removes moderators'],
    ['a moderator adds an emote', { type: 'AddEmote', channel, actor: mod, code: 'Kappa', contentType: 'image/png', imageBase64: 'AAAA' }, 'owner_only', 'only the channel owner adds emotes'],
    ['the owner makes themselves a moderator', { type: 'AddModerator', channel, actor: owner, target: owner }, 'target_is_owner_moderator', 'the channel owner cannot be made a moderator'],
    ['the owner makes a banned user a moderator', { type: 'AddModerator', channel, actor: owner, target: troll }, 'target_banned', 'troll is banned: unban them before making them a moderator'],
  ];
  for (const [what, command, reason, message] of cases) {
    it(`${what}: ${reason}`, () => {
      assert.deepEqual(refusal(command), { code: 'forbidden', reason, message });
    });
  }
});
