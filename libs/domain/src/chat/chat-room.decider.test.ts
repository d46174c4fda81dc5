import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultChatSettings, type ChatSettings } from '@eventcast/events';
import { DomainError, fold } from '../decider.js';
import { specFor } from '../specification.js';
import { chatRoomDecider, type ChatRoomCommand, type ChatRoomEvent } from './chat-room.decider.js';
import { compileBlockedTerms, maskBlockedTerms } from './blocked-terms.js';

const spec = specFor(chatRoomDecider, assert.deepStrictEqual);
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const owner = { id: uuid(1), name: 'owner' };
const mod = { id: uuid(2), name: 'moddy' };
const mod2 = { id: uuid(3), name: 'moddy2' };
const viewer = { id: uuid(4), name: 'viewer' };
const other = { id: uuid(5), name: 'other' };
const channel = { id: owner.id, username: 'owner', ownerId: owner.id };
const room = { channelId: channel.id, username: channel.username };
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const iso = (ms: number) => at(ms).toISOString();
const msgId = (n: number) => uuid(1000 + n);

function send(sender = viewer, text = 'hello', ms = 0, extra: Partial<Extract<ChatRoomCommand, { type: 'SendChatMessage' }>> = {}): ChatRoomCommand {
  return { type: 'SendChatMessage', messageId: msgId(ms), sender, text, now: at(ms), follows: false, channel, ...extra };
}
function sent(sender = viewer, text = 'hello', ms = 0, opts: { role?: 'owner' | 'moderator' | 'viewer'; visibleMs?: number; masked?: number; id?: string } = {}): ChatRoomEvent {
  return {
    type: 'ChatMessageSent',
    data: {
      ...room,
      messageId: opts.id ?? msgId(ms),
      senderId: sender.id,
      senderName: sender.name,
      senderRole: opts.role ?? 'viewer',
      text,
      maskedTerms: opts.masked ?? 0,
      sentAt: iso(ms),
      visibleAt: iso(opts.visibleMs ?? ms),
    },
  };
}
const by = (actor: { id: string; name: string }) => ({ ...room, moderatorId: actor.id, moderatorName: actor.name });
const modAdded = (u = mod): ChatRoomEvent => ({ type: 'ChatModeratorAdded', data: { ...by(owner), userId: u.id, userName: u.name } });
const settings = (s: Partial<ChatSettings>): ChatRoomEvent => ({ type: 'ChatSettingsChanged', data: { ...by(owner), settings: { ...defaultChatSettings, ...s } } });
const banned = (u = viewer): ChatRoomEvent => ({ type: 'ChatUserBanned', data: { ...by(owner), userId: u.id, userName: u.name, reason: '' } });
const timedOut = (u = viewer, untilMs = 60_000): ChatRoomEvent => ({
  type: 'ChatUserTimedOut',
  data: { ...by(owner), userId: u.id, userName: u.name, durationSeconds: untilMs / 1000, until: iso(untilMs), reason: '' },
});
const terms = (list: string[], action: 'mask' | 'refuse'): ChatRoomEvent => ({ type: 'ChatBlockedTermsUpdated', data: { ...by(owner), terms: list, action } });
const emote = (code: string): ChatRoomEvent => ({ type: 'ChannelEmoteAdded', data: { ...by(owner), code, contentType: 'image/png', imageBase64: 'AAAA' } });
const mods = [modAdded(mod), modAdded(mod2)];

function retryAfter(events: ChatRoomEvent[], command: ChatRoomCommand): { code: string; retryAfterMs: number | undefined } {
  try {
    chatRoomDecider.decide(command, fold(chatRoomDecider, events));
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, retryAfterMs: e.retryAfterMs };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('chat room decider: sending', () => {
  it('sends a trimmed message as a viewer, visible now', () => {
    spec.given([]).when(send(viewer, '  hello  ')).then([sent(viewer, 'hello')]);
  });

  it('holds a bot to 100 messages per 30 s per token, whatever the room settings, and the owner stays unlimited', () => {
    const bot = { tokenId: uuid(77), name: 'helper_bot' };
    const other = { tokenId: uuid(78), name: 'second_bot' };
    const botSent = (ms: number, b = bot): ChatRoomEvent => {
      const e = sent(owner, `b${ms}`, ms, { role: 'owner' });
      return { ...e, data: { ...e.data, bot: b } } as ChatRoomEvent;
    };
    // 100 bot messages in the first second, with viewers chatting in between (their pruning must keep the bot's).
    const history: ChatRoomEvent[] = [settings({ rateLimitMessages: 5, rateLimitWindowSeconds: 10 })];
    for (let i = 0; i < 100; i++) history.push(botSent(i * 10), sent(viewer, `v${i}`, 5_000 + i * 200));
    assert.deepEqual(retryAfter(history, send(owner, 'one more', 20_000, { bot })), { code: 'rate_limited', retryAfterMs: 10_000 });
    // Another token of the channel has its own budget; the owner typing is not a bot.
    spec.given(history).when(send(owner, 'hi', 20_000, { bot: other })).then([{ ...sent(owner, 'hi', 20_000, { role: 'owner' }), data: { ...sent(owner, 'hi', 20_000, { role: 'owner' }).data, bot: other } } as ChatRoomEvent]);
    spec.given(history).when(send(owner, 'by hand', 20_000)).then([sent(owner, 'by hand', 20_000, { role: 'owner' })]);
    // Once the first send is 30 s old, one more fits.
    spec.given(history).when(send(owner, 'later', 30_000, { bot })).then([{ ...sent(owner, 'later', 30_000, { role: 'owner' }), data: { ...sent(owner, 'later', 30_000, { role: 'owner' }).data, bot } } as ChatRoomEvent]);
  });

  it("sends the owner's bot messages as the owner with the bot's name; nobody else may send as a bot", () => {
    const bot = { tokenId: uuid(77), name: 'helper_bot' };
    const expected = sent(owner, 'hi from the bot', 0, { role: 'owner' });
    if (expected.type !== 'ChatMessageSent') throw new Error('unreachable');
    spec.given([]).when(send(owner, 'hi from the bot', 0, { bot })).then([{ ...expected, data: { ...expected.data, bot } }]);
    spec.given([]).when(send(viewer, 'fake bot', 0, { bot })).thenThrows('forbidden');
    spec.given([]).when(send(owner, '   ', 0, { bot })).thenThrows('empty');
  });

  it('gives the owner and moderators their role', () => {
    spec.given(mods).when(send(owner, 'hi')).then([sent(owner, 'hi', 0, { role: 'owner' })]);
    spec.given(mods).when(send(mod, 'hi')).then([sent(mod, 'hi', 0, { role: 'moderator' })]);
  });

  it('rule 1: refuses banned users and timed-out users until the timeout ends, with retryAfterMs', () => {
    spec.given([banned()]).when(send()).thenThrows('banned');
    assert.deepEqual(retryAfter([timedOut(viewer, 60_000)], send(viewer, 'x', 15_000)), { code: 'timed_out', retryAfterMs: 45_000 });
    spec.given([timedOut(viewer, 60_000)]).when(send(viewer, 'back', 60_000)).then([sent(viewer, 'back', 60_000)]);
    spec.given([banned(), { type: 'ChatUserUnbanned', data: { ...by(owner), userId: viewer.id, userName: viewer.name } }]).when(send()).then([sent()]);
  });

  it('rule 2: refuses empty and too long text (500 characters allowed)', () => {
    spec.given([]).when(send(viewer, '   \n ')).thenThrows('empty');
    spec.given([]).when(send(viewer, 'x'.repeat(501))).thenThrows('too_long');
    spec.given([]).when(send(viewer, ` ${'x'.repeat(500)} `)).then([sent(viewer, 'x'.repeat(500))]);
  });

  it('rule 4: chat disabled, followers-only, emote-only', () => {
    spec.given([settings({ enabled: false })]).when(send()).thenThrows('chat_disabled');
    spec.given([settings({ followersOnly: true })]).when(send()).thenThrows('followers_only');
    spec.given([settings({ followersOnly: true })]).when(send(viewer, 'hello', 0, { follows: true })).then([sent()]);
    const emoteOnly = [emote('Kappa'), emote('PogU'), settings({ emoteOnly: true })];
    spec.given(emoteOnly).when(send(viewer, 'hi :Kappa:')).thenThrows('emote_only');
    spec.given(emoteOnly).when(send(viewer, ':Nope:')).thenThrows('emote_only');
    spec.given(emoteOnly).when(send(viewer, ' :Kappa:  :PogU::Kappa: ')).then([sent(viewer, ':Kappa:  :PogU::Kappa:')]);
  });

  it('rule 5: slow mode counts from the last message, with retryAfterMs', () => {
    const given = [settings({ slowModeSeconds: 30 }), sent(viewer, 'a', 1_000)];
    assert.deepEqual(retryAfter(given, send(viewer, 'b', 11_000)), { code: 'slow_mode', retryAfterMs: 20_000 });
    spec.given(given).when(send(viewer, 'b', 31_000)).then([sent(viewer, 'b', 31_000)]);
    spec.given(given).when(send(other, 'b', 2_000)).then([sent(other, 'b', 2_000)]);
  });

  it('rule 6: at most 5 messages per 10 s by default (seed 002), with retryAfterMs until the oldest leaves the window', () => {
    const five = [0, 1_000, 2_000, 3_000, 4_000].map((ms) => sent(viewer, 'm', ms));
    assert.deepEqual(retryAfter(five, send(viewer, 'm', 5_000)), { code: 'rate_limited', retryAfterMs: 5_000 });
    spec.given(five).when(send(viewer, 'm', 10_000)).then([sent(viewer, 'm', 10_000)]);
    spec.given(five).when(send(other, 'm', 5_000)).then([sent(other, 'm', 5_000)]);
    const custom = [settings({ rateLimitMessages: 2, rateLimitWindowSeconds: 60 }), sent(viewer, 'm', 0), sent(viewer, 'm', 30_000)];
    assert.deepEqual(retryAfter(custom, send(viewer, 'm', 40_000)), { code: 'rate_limited', retryAfterMs: 20_000 });
  });

  it('rate limit accounts for the message delay when reconstructing send times', () => {
    const given = [settings({ messageDelaySeconds: 6 }), ...[0, 1, 2, 3, 4].map((s) => sent(viewer, 'm', s * 1000, { visibleMs: s * 1000 + 6000 }))];
    assert.deepEqual(retryAfter(given, send(viewer, 'm', 5_000)), { code: 'rate_limited', retryAfterMs: 5_000 });
  });

  it('rule 7: masks blocked terms case-insensitively as whole words (Unicode-aware)', () => {
    const given = [terms(['darn', 'böse', 'two words'], 'mask')];
    spec.given(given).when(send(viewer, 'Darn it, DARN! darned undarn two words')).then([sent(viewer, '**** it, ****! darned undarn *********', 0, { masked: 3 })]);
    spec.given(given).when(send(viewer, 'Böse! übböse BÖSE')).then([sent(viewer, '****! übböse ****', 0, { masked: 2 })]);
  });

  it('rule 7: refuse mode records ChatMessageRefused without the text', () => {
    spec
      .given([terms(['darn'], 'refuse')])
      .when(send(viewer, 'oh DARN'))
      .then([{ type: 'ChatMessageRefused', data: { ...room, senderId: viewer.id, senderName: viewer.name, reason: 'blocked_term', refusedAt: iso(0) } }]);
    spec.given([terms(['darn'], 'refuse')]).when(send(viewer, 'darned')).then([sent(viewer, 'darned')]);
  });

  it('rule 7: refused attempts count toward the rate limit and slow mode, so they cannot flood the log', () => {
    const refused = (ms: number): ChatRoomEvent => ({ type: 'ChatMessageRefused', data: { ...room, senderId: viewer.id, senderName: viewer.name, reason: 'blocked_term', refusedAt: iso(ms) } });
    const given = [settings({ rateLimitMessages: 3, rateLimitWindowSeconds: 10 }), terms(['darn'], 'refuse'), refused(0), refused(1_000), refused(2_000)];
    assert.deepEqual(retryAfter(given, send(viewer, 'darn', 3_000)), { code: 'rate_limited', retryAfterMs: 7_000 });
    assert.deepEqual(retryAfter(given, send(viewer, 'fine words', 3_000)), { code: 'rate_limited', retryAfterMs: 7_000 });
    spec.given(given).when(send(viewer, 'fine words', 10_000)).then([sent(viewer, 'fine words', 10_000)]);
    const slow = [settings({ slowModeSeconds: 30 }), terms(['darn'], 'refuse'), refused(0)];
    assert.deepEqual(retryAfter(slow, send(viewer, 'sorry', 5_000)), { code: 'slow_mode', retryAfterMs: 25_000 });
  });

  it('rule 8: delays viewers by messageDelaySeconds, never the owner or moderators', () => {
    const given = [...mods, settings({ messageDelaySeconds: 4 })];
    spec.given(given).when(send(viewer, 'hi', 1_000)).then([sent(viewer, 'hi', 1_000, { visibleMs: 5_000 })]);
    spec.given(given).when(send(mod, 'hi', 1_000)).then([sent(mod, 'hi', 1_000, { role: 'moderator' })]);
  });

  it('rule 3: the owner and moderators skip rules 4–8', () => {
    const strict = [
      ...mods,
      emote('Kappa'),
      settings({ enabled: false, followersOnly: true, emoteOnly: true, slowModeSeconds: 60, rateLimitMessages: 1, messageDelaySeconds: 6 }),
      terms(['darn'], 'refuse'),
      sent(mod, 'first', 0, { role: 'moderator' }),
    ];
    spec.given(strict).when(send(mod, 'darn', 1_000)).then([sent(mod, 'darn', 1_000, { role: 'moderator' })]);
    spec.given(strict).when(send(owner, 'darn', 1_000)).then([sent(owner, 'darn', 1_000, { role: 'owner' })]);
  });

  it('applies the rules in the documented order', () => {
    // 1 before 2
    spec.given([banned()]).when(send(viewer, '')).thenThrows('banned');
    spec.given([timedOut()]).when(send(viewer, 'x'.repeat(600))).thenThrows('timed_out');
    // 2 before 3/4
    spec.given([settings({ enabled: false })]).when(send(viewer, ' ')).thenThrows('empty');
    spec.given([...mods]).when(send(mod, ' ')).thenThrows('empty');
    spec.given([banned(mod), ...mods]).when(send(mod, 'hi')).thenThrows('banned');
    // within 4
    spec.given([settings({ enabled: false, followersOnly: true, emoteOnly: true })]).when(send()).thenThrows('chat_disabled');
    spec.given([settings({ followersOnly: true, emoteOnly: true })]).when(send()).thenThrows('followers_only');
    // 4 before 5 before 6 before 7
    const busy = [settings({ slowModeSeconds: 5, rateLimitMessages: 1 }), terms(['darn'], 'refuse'), sent(viewer, 'm', 0)];
    spec.given([...busy, settings({ slowModeSeconds: 5, rateLimitMessages: 1, emoteOnly: true })]).when(send(viewer, 'darn', 1_000)).thenThrows('emote_only');
    spec.given(busy).when(send(viewer, 'darn', 1_000)).thenThrows('slow_mode');
    spec.given(busy).when(send(viewer, 'darn', 6_000)).thenThrows('rate_limited');
    spec
      .given(busy)
      .when(send(viewer, 'darn', 11_000))
      .then([{ type: 'ChatMessageRefused', data: { ...room, senderId: viewer.id, senderName: viewer.name, reason: 'blocked_term', refusedAt: iso(11_000) } }]);
  });

  it('keeps the per-user send history bounded to the rate-limit/slow-mode horizon', () => {
    const events = Array.from({ length: 300 }, (_, i) => sent({ id: uuid(10_000 + i), name: `u${i}` }, 'm', i * 1000));
    const state = fold(chatRoomDecider, events);
    assert.ok(state.recentSends.size <= 11, `tracked ${state.recentSends.size} users`);
    const own = fold(chatRoomDecider, Array.from({ length: 300 }, (_, i) => sent(viewer, 'm', i * 3000, { id: uuid(20_000 + i) })));
    assert.ok((own.recentSends.get(viewer.id)?.length ?? 0) <= 4);
    const chunks = fold(chatRoomDecider, Array.from({ length: 2500 }, (_, i) => sent(viewer, 'm', i * 3000, { id: uuid(30_000 + i) }))).messages.chunks;
    const remembered = chunks.reduce((n, c) => n + c.size, 0);
    assert.ok(remembered <= 1000 && remembered >= 900, `remembered ${remembered}`);
  });
});

describe('chat room decider: moderation', () => {
  const delMsg = (actor = mod, id = msgId(0)): ChatRoomCommand => ({ type: 'DeleteChatMessage', channel, actor, messageId: id, reason: 'spam' });
  const ban = (actor: typeof owner, target: typeof owner): ChatRoomCommand => ({ type: 'BanUser', channel, actor, target, reason: ' rude ' });
  const timeout = (actor: typeof owner, target: typeof owner, durationSeconds = 600): ChatRoomCommand => ({ type: 'TimeOutUser', channel, actor, target, durationSeconds, now: at(0) });

  it('deletes a remembered message (owner, moderators), naming its sender; not twice; viewers forbidden', () => {
    const given = [...mods, sent(viewer, 'spam', 0)];
    spec.given(given).when(delMsg(mod)).then([{ type: 'ChatMessageDeleted', data: { ...by(mod), messageId: msgId(0), senderId: viewer.id, reason: 'spam' } }]);
    spec.given(given).when(delMsg(owner)).then([{ type: 'ChatMessageDeleted', data: { ...by(owner), messageId: msgId(0), senderId: viewer.id, reason: 'spam' } }]);
    spec.given(given).when(delMsg(viewer)).thenThrows('forbidden');
    spec.given(given).when(delMsg(mod, msgId(99))).thenThrows('message_not_found');
    spec.given([...given, { type: 'ChatMessageDeleted', data: { ...by(mod), messageId: msgId(0), senderId: viewer.id, reason: '' } }]).when(delMsg(mod)).thenThrows('message_not_found');
    spec.given([...given, { type: 'ChatCleared', data: by(mod) }]).when(delMsg(mod)).thenThrows('message_not_found');
  });

  it('clears the chat (owner, moderators)', () => {
    spec.given(mods).when({ type: 'ClearChat', channel, actor: mod }).then([{ type: 'ChatCleared', data: by(mod) }]);
    spec.given(mods).when({ type: 'ClearChat', channel, actor: viewer }).thenThrows('forbidden');
  });

  it('times out users; never the owner; moderators only by the owner', () => {
    const timedOutEvent = (actor: typeof owner, target: typeof owner): ChatRoomEvent => ({
      type: 'ChatUserTimedOut',
      data: { ...by(actor), userId: target.id, userName: target.name, durationSeconds: 600, until: iso(600_000), reason: '' },
    });
    spec.given(mods).when(timeout(mod, viewer)).then([timedOutEvent(mod, viewer)]);
    spec.given(mods).when(timeout(owner, mod2)).then([timedOutEvent(owner, mod2)]);
    spec.given(mods).when(timeout(mod, mod2)).thenThrows('forbidden');
    spec.given(mods).when(timeout(mod, owner)).thenThrows('forbidden');
    spec.given(mods).when(timeout(owner, owner)).thenThrows('forbidden');
    spec.given(mods).when(timeout(viewer, other)).thenThrows('forbidden');
    spec.given(mods).when(timeout(mod, viewer, 0)).thenThrows('invalid_duration');
    spec.given(mods).when(timeout(mod, viewer, 1_209_601)).thenThrows('invalid_duration');
  });

  it('bans (idempotent), un-moderates a banned moderator, and unbans; with the same permissions', () => {
    const banEvent = (actor: typeof owner, target: typeof owner): ChatRoomEvent => ({ type: 'ChatUserBanned', data: { ...by(actor), userId: target.id, userName: target.name, reason: 'rude' } });
    spec.given(mods).when(ban(mod, viewer)).then([banEvent(mod, viewer)]);
    spec.given([...mods, banned()]).when(ban(mod, viewer)).then([]);
    spec.given(mods).when(ban(owner, mod)).then([{ type: 'ChatModeratorRemoved', data: { ...by(owner), userId: mod.id, userName: mod.name } }, banEvent(owner, mod)]);
    spec.given(mods).when(ban(mod, mod2)).thenThrows('forbidden');
    spec.given(mods).when(ban(mod, owner)).thenThrows('forbidden');
    spec.given(mods).when(ban(viewer, other)).thenThrows('forbidden');
    const unban = (actor: typeof owner): ChatRoomCommand => ({ type: 'UnbanUser', channel, actor, target: viewer });
    spec.given([...mods, banned()]).when(unban(mod)).then([{ type: 'ChatUserUnbanned', data: { ...by(mod), userId: viewer.id, userName: viewer.name } }]);
    spec.given(mods).when(unban(mod)).then([]);
    spec.given([...mods, banned()]).when(unban(other)).thenThrows('forbidden');
  });

  it('lets only the owner add and remove moderators (idempotent)', () => {
    const add = (actor: typeof owner, target = viewer): ChatRoomCommand => ({ type: 'AddModerator', channel, actor, target });
    const remove = (actor: typeof owner, target = mod): ChatRoomCommand => ({ type: 'RemoveModerator', channel, actor, target });
    spec.given(mods).when(add(owner)).then([modAdded(viewer)]);
    spec.given(mods).when(add(owner, mod)).then([]);
    spec.given(mods).when(add(mod)).thenThrows('forbidden');
    spec.given(mods).when(add(owner, owner)).thenThrows('forbidden');
    spec.given([banned()]).when(add(owner)).thenThrows('forbidden');
    spec.given(mods).when(remove(owner)).then([{ type: 'ChatModeratorRemoved', data: { ...by(owner), userId: mod.id, userName: mod.name } }]);
    spec.given(mods).when(remove(owner, viewer)).then([]);
    spec.given(mods).when(remove(mod2)).thenThrows('forbidden');
  });

  it('merges partial settings over the current ones; refuses invalid ones; records nothing when unchanged', () => {
    const change = (actor: typeof owner, s: Partial<ChatSettings>): ChatRoomCommand => ({ type: 'ChangeChatSettings', channel, actor, settings: s });
    spec.given([...mods, settings({ slowModeSeconds: 10 })]).when(change(mod, { followersOnly: true })).then([
      { type: 'ChatSettingsChanged', data: { ...by(mod), settings: { ...defaultChatSettings, slowModeSeconds: 10, followersOnly: true } } },
    ]);
    spec.given(mods).when(change(mod, { slowModeSeconds: 0 })).then([]);
    spec.given(mods).when(change(mod, { slowModeSeconds: undefined, enabled: true })).then([]);
    spec.given(mods).when(change(mod, { messageDelaySeconds: 3 as 2 })).thenThrows('invalid_settings');
    spec.given(mods).when(change(viewer, { enabled: false })).thenThrows('forbidden');
  });

  it('updates blocked terms, normalized (trimmed, lower-case, unique)', () => {
    const update = (actor: typeof owner, list: string[]): ChatRoomCommand => ({ type: 'UpdateBlockedTerms', channel, actor, terms: list, action: 'refuse' });
    spec.given(mods).when(update(mod, [' Darn ', 'darn', '', 'HECK'])).then([{ type: 'ChatBlockedTermsUpdated', data: { ...by(mod), terms: ['darn', 'heck'], action: 'refuse' } }]);
    spec.given(mods).when(update(viewer, ['x'])).thenThrows('forbidden');
    spec.given(mods).when(update(mod, ['x'.repeat(51)])).thenThrows('invalid_terms');
    spec.given(mods).when(update(mod, Array.from({ length: 501 }, (_, i) => `t${i}`))).thenThrows('invalid_terms');
  });

  it('lets only the owner add (≤ 64 KiB, unique code) and remove emotes', () => {
    const add = (actor: typeof owner, code = 'Kappa', imageBase64 = 'iVBORw0KGgo='): ChatRoomCommand => ({ type: 'AddEmote', channel, actor, code, contentType: 'image/png', imageBase64 });
    spec.given(mods).when(add(owner)).then([{ type: 'ChannelEmoteAdded', data: { ...by(owner), code: 'Kappa', contentType: 'image/png', imageBase64: 'iVBORw0KGgo=' } }]);
    spec.given(mods).when(add(mod)).thenThrows('forbidden');
    spec.given([emote('Kappa')]).when(add(owner)).thenThrows('emote_exists');
    spec.given([]).when(add(owner, 'x')).thenThrows('invalid_emote');
    spec.given([]).when(add(owner, 'Kappa', 'not base64!')).thenThrows('invalid_emote');
    const max = Buffer.alloc(64 * 1024).toString('base64');
    spec.given([]).when(add(owner, 'Big', max)).then([{ type: 'ChannelEmoteAdded', data: { ...by(owner), code: 'Big', contentType: 'image/png', imageBase64: max } }]);
    spec.given([]).when(add(owner, 'Big', Buffer.alloc(64 * 1024 + 1).toString('base64'))).thenThrows('emote_too_large');
    spec.given([emote('Kappa')]).when({ type: 'RemoveEmote', channel, actor: owner, code: 'Kappa' }).then([{ type: 'ChannelEmoteRemoved', data: { ...by(owner), code: 'Kappa' } }]);
    spec.given([emote('Kappa')]).when({ type: 'RemoveEmote', channel, actor: mod, code: 'Kappa' }).thenThrows('forbidden');
    spec.given([]).when({ type: 'RemoveEmote', channel, actor: owner, code: 'Kappa' }).thenThrows('emote_not_found');
  });

  it('a ban clears a pending timeout, and the banned user stays refused', () => {
    spec.given([timedOut(), banned()]).when(send(viewer, 'hi', 120_000)).thenThrows('banned');
  });
});

describe('blocked-terms matching', () => {
  it('escapes regex characters and prefers the longest term', () => {
    const p = compileBlockedTerms(['a.b', 'bad', 'bad word']);
    assert.deepEqual(maskBlockedTerms('axb a.b BAD WORD', p), { text: 'axb *** ********', count: 2 });
  });
});

describe('blocked terms with any character (issue 9 item 2)', () => {
  const printable = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).filter((c) => c !== ' ');
  const update = (list: string[]): ChatRoomCommand => ({ type: 'UpdateBlockedTerms', channel, actor: owner, terms: list, action: 'mask' });

  it('accepts every printable ASCII character in a term, alone, inside a word and all at once, and matches it literally', () => {
    for (const c of printable) {
      for (const term of [`f${c}word`, `${c}${c}`, `${c}x`]) {
        const normalized = term.toLowerCase();
        const [event] = chatRoomDecider.decide(update([term]), fold(chatRoomDecider, mods));
        assert.deepEqual(event, { type: 'ChatBlockedTermsUpdated', data: { ...by(owner), terms: [normalized], action: 'mask' } }, `term ${JSON.stringify(term)}`);
        const state = chatRoomDecider.evolve(fold(chatRoomDecider, mods), event);
        const [masked] = chatRoomDecider.decide(send(viewer, `say ${term} now`), state);
        const data = (masked as Extract<ChatRoomEvent, { type: 'ChatMessageSent' }>).data;
        assert.equal(data.maskedTerms, 1, `term ${JSON.stringify(term)} must be masked in ${JSON.stringify(data.text)}`);
        assert.equal(data.text, `say ${'*'.repeat(term.length)} now`);
      }
    }
    const all = [printable.join('').slice(0, 50), printable.join('').slice(50)];
    spec.given(mods).when(update(all)).then([{ type: 'ChatBlockedTermsUpdated', data: { ...by(owner), terms: all.map((t) => t.toLowerCase()), action: 'mask' } }]);
  });

  it('masks "f-word", "c++" and "a.b" as whole words and nothing else', () => {
    const p = compileBlockedTerms(['f-word', 'c++', 'a.b', '(x)', '[y]', '\\z', '$1', 'a|b', '^^']);
    assert.deepEqual(maskBlockedTerms('the F-WORD, c++ and a.b; axb (x) [y] \\z $1 a|b ^^ ok', p), { text: 'the ******, *** and ***; axb *** *** ** ** *** ** ok', count: 9 });
    assert.deepEqual(maskBlockedTerms('f-words aa.b', p), { text: 'f-words aa.b', count: 0 });
  });

  it('masks with one * per grapheme, so masking never makes a message longer as the chat counts it', () => {
    const p = compileBlockedTerms(['café', '😀']);
    assert.deepEqual(maskBlockedTerms('cafe\u0301 😀 ok', compileBlockedTerms(['cafe\u0301'])), { text: '**** 😀 ok', count: 1 });
    assert.deepEqual(maskBlockedTerms('café 😀 ok', p), { text: '**** * ok', count: 2 });
  });

  it('refuses terms that break the text rule, with a reason', () => {
    for (const bad of ['x\u0000y', 'a\u202eb', 'lone\ud800', 'tab\tin']) {
      assert.throws(() => chatRoomDecider.decide(update([bad]), fold(chatRoomDecider, mods)), (e: unknown) => e instanceof DomainError && e.code === 'invalid_terms' && /U\+/.test(e.message));
    }
  });

  it('evolve never throws for any stored term list (printable ASCII, Unicode, controls, surrogates, regex syntax)', () => {
    const samples: string[] = [...printable, ...printable.map((c) => `a${c}b`), '\\', '\\u{zz}', '(?<', '[^', '\\p{', '\ud800', '\udc00x', '\u0000', '😀', 'e\u0301', '\u202e', '*'.repeat(50)];
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    for (let i = 0; i < 300; i++) {
      let t = '';
      const len = 1 + rnd(12);
      for (let j = 0; j < len; j++) t += String.fromCharCode(rnd(4) === 0 ? rnd(0x10000) : 0x20 + rnd(0x5f));
      samples.push(t);
    }
    for (const list of [samples, ...samples.map((t) => [t])]) {
      const state = chatRoomDecider.evolve(chatRoomDecider.initialState(), terms(list, 'refuse'));
      assert.doesNotThrow(() => chatRoomDecider.decide(send(viewer, 'hello there'), state));
    }
  });
});

describe('text rule in the chat room (issue 9 items 1 and 6)', () => {
  const refused = (ms: number): ChatRoomEvent => ({ type: 'ChatMessageRefused', data: { ...room, senderId: viewer.id, senderName: viewer.name, reason: 'invalid_text', refusedAt: iso(ms) } });

  it('counts graphemes: 500 emoji are accepted, 501 refused; combining accents count once', () => {
    spec.given([]).when(send(viewer, '😀'.repeat(500))).then([sent(viewer, '😀'.repeat(500))]);
    spec.given([]).when(send(viewer, '😀'.repeat(501))).thenThrows('too_long');
    spec.given([]).when(send(viewer, 'e\u0301'.repeat(500))).then([sent(viewer, 'e\u0301'.repeat(500))]);
    spec.given([]).when(send(viewer, 'e\u0301'.repeat(501))).thenThrows('too_long');
    spec.given([]).when(send(viewer, '👨‍👩‍👧'.repeat(500))).then([sent(viewer, '👨‍👩‍👧'.repeat(500))]);
  });

  it("records a viewer's NUL, lone surrogate, control or bidi override as ChatMessageRefused invalid_text, without the text", () => {
    for (const bad of ['x\u0000', 'lone \ud800', 'lone \udfff trail', 'abc \u202e dcba', 'isolate \u2066x\u2069', 'bell \u0007', 'c1 \u0085']) {
      spec.given([]).when(send(viewer, bad)).then([refused(0)]);
    }
  });

  it('a flood of invalid text ends in rate_limited, like any other attempt', () => {
    const given = [refused(0), refused(1_000), refused(2_000), refused(3_000), refused(4_000)];
    assert.deepEqual(retryAfter(given, send(viewer, 'x\u0000', 5_000)), { code: 'rate_limited', retryAfterMs: 5_000 });
    assert.deepEqual(retryAfter(given, send(viewer, 'honest now', 5_000)), { code: 'rate_limited', retryAfterMs: 5_000 });
    spec.given(given).when(send(other, 'unaffected', 5_000)).then([sent(other, 'unaffected', 5_000)]);
  });

  it('the owner, moderators and bots get invalid_request with the reason, and nothing is recorded', () => {
    const bot = { tokenId: uuid(77), name: 'helper_bot' };
    for (const [who, extra] of [[owner, {}], [mod, {}], [owner, { bot }]] as const) {
      assert.throws(
        () => chatRoomDecider.decide(send(who, 'hi\u202e', 0, extra), fold(chatRoomDecider, mods)),
        (e: unknown) => e instanceof DomainError && e.code === 'invalid_request' && e.message.startsWith('text contains U+202E'),
      );
    }
  });

  it('refuses moderation reasons that break the text rule (invalid_request), and never cuts a surrogate pair', () => {
    const ban = (reason: string): ChatRoomCommand => ({ type: 'BanUser', channel, actor: owner, target: viewer, reason });
    assert.throws(() => chatRoomDecider.decide(ban('spam\u0000'), fold(chatRoomDecider, [])), (e: unknown) => e instanceof DomainError && e.code === 'invalid_request');
    const [event] = chatRoomDecider.decide(ban(`${'x'.repeat(199)}😀`), fold(chatRoomDecider, []));
    assert.equal((event as Extract<ChatRoomEvent, { type: 'ChatUserBanned' }>).data.reason, 'x'.repeat(199));
  });
});
