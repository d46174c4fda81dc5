import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PostgresEventStore } from '@eventcast/event-store';
import { CommandPatterns, newEvent, streams } from '@eventcast/events';
import { startHarness, type Harness } from '../test-support/harness.js';
import { as, httpSend, natsSend, room, user } from './chat-test-support.js';

describe('chat commands', () => {
  let h: Harness;
  let store: PostgresEventStore;
  before(async () => {
    h = await startHarness();
    store = new PostgresEventStore({ connectionString: h.db.url });
  });
  after(async () => {
    await store.close();
    await h.stop();
  });
  const chatEvents = async (channelId: string) => (await h.allEvents()).filter((e) => e.streamName === streams.chat(channelId));

  it('sends over NATS and HTTP, recording ChatMessageSent with role and visibleAt', async () => {
    const r = await room(h, 'send');
    const viaNats = await natsSend(h, r.owner, r.viewer, '  hello  ');
    assert.equal(viaNats['ok'], true);
    assert.match(String(viaNats['messageId']), /^[0-9a-f-]{36}$/);
    const viaHttp = await httpSend(h, r.owner, r.mod, 'hi there');
    assert.equal(viaHttp.status, 201);
    const sent = (await chatEvents(r.owner.id)).filter((e) => e.type === 'ChatMessageSent');
    assert.deepEqual(
      sent.map((e) => {
        const d = e.data as Record<string, unknown>;
        return [d['messageId'], d['senderName'], d['senderRole'], d['text'], d['username']];
      }),
      [
        [viaNats['messageId'], r.viewer.name, 'viewer', 'hello', r.owner.name],
        [viaHttp.body['messageId'], r.mod.name, 'moderator', 'hi there', r.owner.name],
      ],
    );
    assert.equal((sent[0]?.data as { visibleAt: string }).visibleAt, viaNats['visibleAt']);
    assert.equal((await as(h, null, 'POST', r.owner, '/chat/messages', { text: 'x' })).status, 401);
    assert.equal((await httpSend(h, { ...r.owner, name: 'nobody_here' }, r.viewer, 'x')).status, 404);
  });

  it('answers bad payloads and unknown channels over NATS without throwing', async () => {
    const bad = await h.request<Record<string, unknown>>(CommandPatterns.ChatSend, { channelId: 'x', senderId: randomUUID(), senderName: 'A!', text: 1 });
    assert.deepEqual([bad['ok'], bad['code']], [false, 'invalid_request']);
    assert.match(String(bad['message']), /channelId/);
    const u = await user(h, 'lonely');
    const unknown = await natsSend(h, { ...u, id: randomUUID() }, u, 'hi');
    assert.deepEqual([unknown['ok'], unknown['code']], [false, 'channel_not_found']);
  });

  it('refuses empty and too long messages (NATS and HTTP 400 with the code)', async () => {
    const r = await room(h, 'len');
    assert.deepEqual(await natsSend(h, r.owner, r.viewer, '   '), { ok: false, code: 'empty', message: 'the message is empty' });
    assert.equal((await natsSend(h, r.owner, r.viewer, 'x'.repeat(501)))['code'], 'too_long');
    const http = await httpSend(h, r.owner, r.viewer, 'x'.repeat(501));
    assert.deepEqual(http.body, { statusCode: 400, error: 'Bad Request', message: 'too_long', code: 'too_long' });
    assert.equal((await httpSend(h, r.owner, r.viewer, '')).body['code'], 'empty');
  });

  it('enforces moderation permissions: owner, moderator, viewer 403, guest 401, unknown user 404', async () => {
    const r = await room(h, 'perm');
    const ban = (actor: typeof r.owner | null, target: string) => as(h, actor, 'POST', r.owner, '/chat/bans', { username: target, reason: 'x' });
    assert.equal((await ban(null, r.viewer.name)).status, 401);
    const viewerTry = await ban(r.viewer, r.other.name);
    assert.deepEqual(viewerTry.body, {
      statusCode: 403,
      error: 'Forbidden',
      message: 'you are not a moderator of this channel: only the owner and moderators may ban users',
      code: 'forbidden',
      reason: 'not_moderator',
    });
    assert.equal((await ban(r.mod, r.owner.name)).status, 403, 'nobody bans the owner');
    assert.equal((await ban(r.mod, 'no_such_user')).status, 404);
    assert.equal((await as(h, r.mod, 'POST', { ...r.owner, name: 'no_such_chan' }, '/chat/bans', { username: r.viewer.name })).status, 404);
    const banned = await ban(r.mod, r.viewer.name);
    assert.deepEqual([banned.status, banned.body], [201, { userId: r.viewer.id, username: r.viewer.name, banned: true }]);
    assert.equal((await natsSend(h, r.owner, r.viewer, 'let me in'))['code'], 'banned');
    const httpBanned = await httpSend(h, r.owner, r.viewer, 'hi');
    assert.deepEqual([httpBanned.status, httpBanned.body['code']], [403, 'banned']);
    assert.equal((await as(h, r.viewer, 'DELETE', r.owner, `/chat/bans/${r.viewer.name}`)).status, 403);
    assert.deepEqual((await as(h, r.mod, 'DELETE', r.owner, `/chat/bans/${r.viewer.name}`)).body, { userId: r.viewer.id, username: r.viewer.name, banned: false });
    assert.equal((await natsSend(h, r.owner, r.viewer, 'back'))['ok'], true);

    // Moderators: owner only; moderators may not sanction moderators.
    assert.equal((await as(h, r.mod, 'PUT', r.owner, `/chat/moderators/${r.other.name}`)).status, 403);
    assert.equal((await as(h, r.owner, 'PUT', r.owner, `/chat/moderators/${r.other.name}`)).status, 200);
    assert.equal((await as(h, r.mod, 'POST', r.owner, '/chat/timeouts', { username: r.other.name, durationSeconds: 60 })).status, 403);
    assert.equal((await as(h, r.mod, 'POST', r.owner, '/chat/bans', { username: r.other.name })).status, 403);
    assert.deepEqual((await as(h, r.owner, 'DELETE', r.owner, `/chat/moderators/${r.other.name}`)).body, { userId: r.other.id, username: r.other.name, moderator: false });

    // Settings and blocked terms: owner and mods; viewers 403, guests 401.
    assert.equal((await as(h, r.viewer, 'PUT', r.owner, '/chat/settings', { slowModeSeconds: 5 })).status, 403);
    assert.equal((await as(h, null, 'PUT', r.owner, '/chat/settings', { slowModeSeconds: 5 })).status, 401);
    assert.equal((await as(h, r.mod, 'PUT', r.owner, '/chat/settings', { messageDelaySeconds: 3 })).status, 400);
    assert.equal((await as(h, r.viewer, 'PUT', r.owner, '/chat/blocked-terms', { terms: ['x'], action: 'mask' })).status, 403);
    assert.deepEqual((await as(h, r.mod, 'PUT', r.owner, '/chat/blocked-terms', { terms: [' Darn', 'darn'], action: 'mask' })).body, { terms: ['darn'], action: 'mask' });

    // Delete and clear.
    const msg = await natsSend(h, r.owner, r.viewer, 'delete me');
    assert.equal((await as(h, r.viewer, 'DELETE', r.owner, `/chat/messages/${String(msg['messageId'])}`, {})).status, 403);
    assert.deepEqual((await as(h, r.mod, 'DELETE', r.owner, `/chat/messages/${String(msg['messageId'])}`, { reason: 'spam' })).body, { ok: true });
    assert.equal((await as(h, r.mod, 'DELETE', r.owner, `/chat/messages/${String(msg['messageId'])}`, {})).status, 404);
    assert.equal((await as(h, r.viewer, 'POST', r.owner, '/chat/clear')).status, 403);
    assert.deepEqual([(await as(h, r.owner, 'POST', r.owner, '/chat/clear')).status], [200]);
    const types = (await chatEvents(r.owner.id)).map((e) => e.type);
    for (const t of ['ChatUserBanned', 'ChatUserUnbanned', 'ChatModeratorAdded', 'ChatModeratorRemoved', 'ChatBlockedTermsUpdated', 'ChatMessageDeleted', 'ChatCleared']) {
      assert.ok(types.includes(t), t);
    }
    const deleted = (await chatEvents(r.owner.id)).find((e) => e.type === 'ChatMessageDeleted');
    assert.deepEqual(deleted?.data, { channelId: r.owner.id, username: r.owner.name, moderatorId: r.mod.id, moderatorName: r.mod.name, messageId: msg['messageId'], senderId: r.viewer.id, reason: 'spam' });
    assert.equal(deleted?.metadata.actorId, r.mod.id);
  });

  it('times users out until the timeout expires, with retryAfterMs', async () => {
    const r = await room(h, 'tout');
    const t = await as(h, r.mod, 'POST', r.owner, '/chat/timeouts', { username: r.viewer.name, durationSeconds: 1 });
    assert.equal(t.status, 201);
    assert.ok(Date.parse(String(t.body['timedOutUntil'])) > Date.now());
    const refused = await natsSend(h, r.owner, r.viewer, 'hi');
    assert.equal(refused['code'], 'timed_out');
    assert.ok(Number(refused['retryAfterMs']) > 0 && Number(refused['retryAfterMs']) <= 1000);
    const http = await httpSend(h, r.owner, r.viewer, 'hi');
    assert.deepEqual([http.status, http.body['code'], typeof http.body['retryAfterMs']], [429, 'timed_out', 'number']);
    await sleep(1100);
    assert.equal((await natsSend(h, r.owner, r.viewer, 'back'))['ok'], true);
    assert.equal((await as(h, r.mod, 'POST', r.owner, '/chat/timeouts', { username: r.viewer.name, durationSeconds: 0 })).status, 400);
  });

  it('applies slow mode and the rate limit with retryAfterMs; moderators are exempt', async () => {
    const r = await room(h, 'slow');
    assert.equal((await as(h, r.owner, 'PUT', r.owner, '/chat/settings', { slowModeSeconds: 30 })).status, 200);
    assert.equal((await natsSend(h, r.owner, r.viewer, 'one'))['ok'], true);
    const slow = await natsSend(h, r.owner, r.viewer, 'two');
    assert.equal(slow['code'], 'slow_mode');
    assert.ok(Number(slow['retryAfterMs']) > 29_000 && Number(slow['retryAfterMs']) <= 30_000);
    const http = await httpSend(h, r.owner, r.viewer, 'two');
    assert.deepEqual([http.status, http.body['message'], http.body['code']], [429, 'slow_mode', 'slow_mode']);
    assert.ok(Number(http.headers.get('retry-after')) >= 29);
    assert.equal((await natsSend(h, r.owner, r.mod, 'mods skip'))['ok'], true);
    assert.equal((await natsSend(h, r.owner, r.mod, 'mods skip'))['ok'], true);

    const settings = await as(h, r.owner, 'PUT', r.owner, '/chat/settings', { slowModeSeconds: 0, rateLimitMessages: 3, rateLimitWindowSeconds: 60 });
    assert.equal((settings.body['settings'] as { rateLimitMessages: number }).rateLimitMessages, 3);
    for (const text of ['a', 'b', 'c']) assert.equal((await natsSend(h, r.owner, r.other, text))['ok'], true);
    const limited = await natsSend(h, r.owner, r.other, 'd');
    assert.equal(limited['code'], 'rate_limited');
    assert.ok(Number(limited['retryAfterMs']) > 55_000 && Number(limited['retryAfterMs']) <= 60_000);
  });

  it('holds viewers messages for the message delay (visibleAt), not moderators', async () => {
    const r = await room(h, 'delay');
    await as(h, r.owner, 'PUT', r.owner, '/chat/settings', { messageDelaySeconds: 4 });
    const t0 = Date.now();
    const viewer = await natsSend(h, r.owner, r.viewer, 'later');
    const delay = Date.parse(String(viewer['visibleAt'])) - t0;
    assert.ok(delay >= 3900 && delay <= 4500, `delay ${delay}`);
    const mod = await natsSend(h, r.owner, r.mod, 'now');
    assert.ok(Date.parse(String(mod['visibleAt'])) - Date.now() <= 100);
  });

  it('masks blocked terms, or refuses them recording ChatMessageRefused', async () => {
    const r = await room(h, 'terms');
    await as(h, r.mod, 'PUT', r.owner, '/chat/blocked-terms', { terms: ['darn', 'heck'], action: 'mask' });
    assert.equal((await natsSend(h, r.owner, r.viewer, 'Darn it, what the HECK, darned'))['ok'], true);
    const sent = (await chatEvents(r.owner.id)).findLast((e) => e.type === 'ChatMessageSent')?.data as { text: string; maskedTerms: number };
    assert.deepEqual([sent.text, sent.maskedTerms], ['**** it, what the ****, darned', 2]);

    await as(h, r.mod, 'PUT', r.owner, '/chat/blocked-terms', { terms: ['darn'], action: 'refuse' });
    const refused = await natsSend(h, r.owner, r.viewer, 'oh darn');
    assert.deepEqual([refused['ok'], refused['code']], [false, 'blocked_term']);
    const http = await httpSend(h, r.owner, r.viewer, 'DARN');
    assert.deepEqual([http.status, http.body['code']], [403, 'blocked_term']);
    const events = (await chatEvents(r.owner.id)).filter((e) => e.type === 'ChatMessageRefused');
    assert.equal(events.length, 2);
    const refusedAt = (events[0]?.data as { refusedAt?: string }).refusedAt ?? '';
    assert.deepEqual(events[0]?.data, { channelId: r.owner.id, username: r.owner.name, senderId: r.viewer.id, senderName: r.viewer.name, reason: 'blocked_term', refusedAt });
    assert.ok(Math.abs(Date.parse(refusedAt) - Date.now()) < 60_000, 'refusedAt is the decision time');
    assert.equal((await natsSend(h, r.owner, r.mod, 'darn, mods may'))['ok'], true);
  });

  it('adds emotes (owner only, ≤ 64 KiB) and enforces emote-only mode', async () => {
    const r = await room(h, 'emote');
    const png = Buffer.alloc(1000, 1).toString('base64');
    const add = (actor: typeof r.owner, code: string, imageBase64 = png) => as(h, actor, 'POST', r.owner, '/emotes', { code, contentType: 'image/png', imageBase64 });
    assert.equal((await add(r.mod, 'Kappa')).status, 403);
    assert.deepEqual([(await add(r.owner, 'Kappa')).status, (await add(r.owner, 'Kappa')).status], [201, 409]);
    assert.equal((await add(r.owner, 'Max', Buffer.alloc(64 * 1024, 2).toString('base64'))).status, 201);
    const big = await add(r.owner, 'Big', Buffer.alloc(64 * 1024 + 10, 2).toString('base64'));
    assert.equal(big.status, 400, JSON.stringify(big.body));
    assert.equal((await add(r.owner, 'x!')).status, 400);
    await as(h, r.mod, 'PUT', r.owner, '/chat/settings', { emoteOnly: true });
    assert.equal((await natsSend(h, r.owner, r.viewer, 'hello :Kappa:'))['code'], 'emote_only');
    assert.equal((await natsSend(h, r.owner, r.viewer, ':Kappa: :Max:'))['ok'], true);
    assert.equal((await as(h, r.mod, 'DELETE', r.owner, '/emotes/Kappa')).status, 403);
    assert.equal((await as(h, r.owner, 'DELETE', r.owner, '/emotes/Kappa')).status, 200);
    assert.equal((await as(h, r.owner, 'DELETE', r.owner, '/emotes/Kappa')).status, 404);
    assert.equal((await natsSend(h, r.owner, r.other, ':Kappa:'))['code'], 'emote_only');
  });

  it('follows (idempotent, not the owner) and enforces followers-only mode; chat disabled', async () => {
    const r = await room(h, 'fol');
    await as(h, r.owner, 'PUT', r.owner, '/chat/settings', { followersOnly: true });
    assert.equal((await natsSend(h, r.owner, r.viewer, 'hi'))['code'], 'followers_only');
    assert.deepEqual((await as(h, r.viewer, 'PUT', r.owner, '/follow')).body, { following: true });
    assert.deepEqual((await as(h, r.viewer, 'PUT', r.owner, '/follow')).body, { following: true });
    assert.equal((await natsSend(h, r.owner, r.viewer, 'hi'))['ok'], true);
    const self = await as(h, r.owner, 'PUT', r.owner, '/follow');
    assert.deepEqual([self.status, self.body['code']], [403, 'cannot_follow_self']);
    assert.equal((await as(h, null, 'PUT', r.owner, '/follow')).status, 401);
    assert.equal((await as(h, r.viewer, 'PUT', { ...r.owner, name: 'no_such_chan' }, '/follow')).status, 404);
    assert.deepEqual((await as(h, r.viewer, 'DELETE', r.owner, '/follow')).body, { following: false });
    assert.deepEqual((await as(h, r.viewer, 'DELETE', r.owner, '/follow')).body, { following: false });
    const follows = (await h.allEvents()).filter((e) => e.streamName === streams.follows(r.owner.id)).map((e) => e.type);
    assert.deepEqual(follows, ['ChannelFollowed', 'ChannelUnfollowed']);
    assert.equal((await natsSend(h, r.owner, r.viewer, 'hi'))['code'], 'followers_only');
    await as(h, r.owner, 'PUT', r.owner, '/chat/settings', { followersOnly: false, enabled: false });
    assert.equal((await natsSend(h, r.owner, r.viewer, 'hi'))['code'], 'chat_disabled');
    assert.equal((await natsSend(h, r.owner, r.mod, 'hi'))['ok'], true);
  });

  it('decides on fresh state when another writer appended behind the cache', async () => {
    const r = await room(h, 'cache');
    assert.equal((await natsSend(h, r.owner, r.viewer, 'cached now'))['ok'], true);
    const data = { channelId: r.owner.id, username: r.owner.name, moderatorId: r.owner.id, moderatorName: r.owner.name, userId: r.viewer.id, userName: r.viewer.name, reason: 'direct' };
    await store.append(streams.chat(r.owner.id), [newEvent('ChatUserBanned', data)], 'any');
    assert.equal((await natsSend(h, r.owner, r.viewer, 'still here?'))['code'], 'banned');
    await store.append(streams.follows(r.owner.id), [newEvent('ChannelFollowed', { channelId: r.owner.id, username: r.owner.name, followerId: r.other.id, followerName: r.other.name })], 'any');
    await as(h, r.owner, 'PUT', r.owner, '/chat/settings', { followersOnly: true });
    assert.equal((await natsSend(h, r.owner, r.other, 'I follow'))['ok'], true);
  });
});
