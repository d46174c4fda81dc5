/**
 * Chat events to viewers (docs/chat.md "Push" and "Presence"): relay by `data.username`, hold-back until
 * `visibleAt`, delete/clear of held messages, never-relayed types, and presence frames with chatters.
 * Private nats-server with JetStream, real Redis, real uWS server.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { defaultChatSettings, type WireEvent } from '@eventcast/events';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { startRealtime, type RealtimeServer } from './server.js';
import { chatEvent, chatMessageSent, openClient, publishEvent, signToken, sleep, type Frame, type TestClient } from './test-support.js';

const logger = createLogger('realtime-test');
logger.level = process.env['LOG_LEVEL'] ?? 'warn';
const run = randomBytes(4).toString('hex');
const user = (name: string): string => `${name}_${run}`;
let config = { ...loadConfig(), REALTIME_PORT: 0, HOST: '127.0.0.1' };
let natsServer: PrivateNatsServer;
let server: RealtimeServer;
let nc: NatsConnection;
let js: JetStreamClient;

const publish = (ev: WireEvent): Promise<void> => publishEvent(js, ev, 'chat');
const eventId = (f: Frame): string | undefined => (f.type === 'event' ? (f['event'] as { id: string }).id : undefined);
const isEventOf = (ev: WireEvent) => (f: Frame) => eventId(f) === ev.id;
const moderator = { moderatorId: randomUUID(), moderatorName: 'mod_user' };

async function viewer(channel: string, token?: string): Promise<TestClient> {
  const c = await openClient(server.port, token);
  await c.request({ type: 'subscribe', channel }, (f) => f.type === 'subscribed');
  return c;
}

before(async () => {
  natsServer = await startPrivateNats();
  config = { ...config, NATS_URL: natsServer.url };
  server = await startRealtime({
    config,
    logger,
    waitForRelay: true,
    edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 0 },
    presence: { ttlSeconds: 2, refreshMs: 500 },
    presencePush: { intervalMs: 300, minPushIntervalMs: 100 },
  });
  nc = await connect({ servers: natsServer.url });
  js = jetstream(nc);
});

after(async () => {
  await server.close();
  await nc.drain();
  await natsServer.dispose();
});

void describe('chat relay', () => {
  void test('ChatMessageSent reaches every subscriber of the channel and nobody else, without metadata', async () => {
    const alice = user('alice');
    const bob = user('bob');
    const channelId = randomUUID();
    const [a1, a2, b] = [await viewer(alice), await viewer(alice), await viewer(bob)];
    const ev = chatMessageSent(channelId, alice, 'hello everyone');
    await publish(ev);
    for (const c of [a1, a2]) {
      const f = await c.next(isEventOf(ev));
      assert.deepEqual(f, {
        type: 'event',
        channel: alice,
        event: { id: ev.id, type: 'ChatMessageSent', data: ev.data, globalPosition: ev.globalPosition, occurredAt: ev.occurredAt },
      });
    }
    await sleep(100);
    assert.equal(b.frames.filter((f) => f.type === 'event').length, 0);
    for (const c of [a1, a2, b]) await c.close();
  });

  void test('a delayed message is held until visibleAt; a delete or a clear before then suppresses it', async () => {
    const ch = user('carol');
    const channelId = randomUUID();
    const c = await viewer(ch);
    const visibleAt = new Date(Date.now() + 900);
    const kept = chatMessageSent(channelId, ch, 'delayed', visibleAt);
    const deleted = chatMessageSent(channelId, ch, 'deleted before visible', visibleAt);
    const cleared = chatMessageSent(channelId, ch, 'cleared before visible', visibleAt);
    await publish(kept);
    await publish(deleted);
    await publish(cleared);
    const del = chatEvent('ChatMessageDeleted', channelId, ch, {
      ...moderator,
      messageId: (deleted.data as { messageId: string }).messageId,
      senderId: (deleted.data as { senderId: string }).senderId,
      reason: 'spam',
    });
    await publish(del);
    await c.next(isEventOf(del)); // the deletion itself is relayed at once
    assert.equal(c.frames.filter((f) => eventId(f) === kept.id).length, 0, 'not before visibleAt');
    // A clear drops what is held then (here: the two remaining messages), so re-publish `kept`'s twin after it.
    const clear = chatEvent('ChatCleared', channelId, ch, moderator);
    const keptAfterClear = chatMessageSent(channelId, ch, 'after the clear', new Date(Date.now() + 500));
    await publish(clear);
    await publish(keptAfterClear);
    await c.next(isEventOf(clear));
    const f = await c.next(isEventOf(keptAfterClear), 3000);
    assert.ok(Date.now() >= Date.parse((f['event'] as { data: { visibleAt: string } }).data.visibleAt) - 5);
    await sleep(700); // past every visibleAt
    const ids = c.frames.map(eventId);
    assert.ok(!ids.includes(kept.id) && !ids.includes(deleted.id) && !ids.includes(cleared.id));
    await c.close();
  });

  void test('a ban during the message delay keeps that user\'s held messages from ever being shown', async () => {
    const ch = user('erin');
    const channelId = randomUUID();
    const c = await viewer(ch);
    const visibleAt = new Date(Date.now() + 700);
    const spam = chatMessageSent(channelId, ch, 'spam while delayed', visibleAt);
    const fine = chatMessageSent(channelId, ch, 'a fine message', visibleAt);
    await publish(spam);
    await publish(fine);
    const spammer = spam.data as { senderId: string };
    const ban = chatEvent('ChatUserBanned', channelId, ch, { ...moderator, userId: spammer.senderId, userName: 'spammer', reason: 'spam' });
    await publish(ban);
    await c.next(isEventOf(ban));
    await c.next(isEventOf(fine), 3000);
    await sleep(200);
    assert.equal(c.frames.filter((f) => eventId(f) === spam.id).length, 0, 'the banned user\'s held message is dropped');
    await c.close();
  });

  void test('a held message is released at visibleAt', async () => {
    const ch = user('dora');
    const c = await viewer(ch);
    const visibleAt = new Date(Date.now() + 600);
    const ev = chatMessageSent(randomUUID(), ch, 'wait for it', visibleAt);
    await publish(ev);
    await sleep(300);
    assert.equal(c.frames.filter((f) => f.type === 'event').length, 0);
    await c.next(isEventOf(ev), 3000);
    assert.ok(Date.now() >= visibleAt.getTime() - 5);
    await c.close();
  });

  void test('ChatBlockedTermsUpdated and ChatMessageRefused are never relayed; ChatSettingsChanged is', async () => {
    const ch = user('erin');
    const channelId = randomUUID();
    const c = await viewer(ch);
    await publish(chatEvent('ChatBlockedTermsUpdated', channelId, ch, { ...moderator, terms: ['secretword'], action: 'mask' }));
    await publish(chatEvent('ChatMessageRefused', channelId, ch, { senderId: randomUUID(), senderName: 'rude_one', reason: 'blocked_term' }));
    const settings = chatEvent('ChatSettingsChanged', channelId, ch, { ...moderator, settings: { ...defaultChatSettings, slowModeSeconds: 5 } });
    await publish(settings);
    await c.next(isEventOf(settings));
    assert.equal(c.frames.filter((f) => f.type === 'event').length, 1);
    assert.ok(!JSON.stringify(c.frames).includes('secretword'));
    await c.close();
  });
});

void describe('presence frames', () => {
  const lastPresence = (c: TestClient): Frame | undefined => c.frames.filter((f) => f.type === 'presence').at(-1);
  const presenceIs = (viewers: number, chatters: number) => (f: Frame) =>
    f.type === 'presence' && f['viewers'] === viewers && f['chatters'] === chatters;

  void test('viewers and chatters are pushed on subscribe and when they change', async () => {
    const ch = user('frank');
    const guest = await viewer(ch);
    assert.deepEqual(await guest.next((f) => f.type === 'presence'), { type: 'presence', channel: ch, viewers: 1, chatters: 0 });
    const token = await signToken(config.JWT_SECRET, randomUUID(), user('u1'));
    const signed1 = await viewer(ch, token);
    const signed2 = await viewer(ch, await signToken(config.JWT_SECRET, randomUUID(), user('u2')));
    await signed2.next(presenceIs(3, 2));
    await guest.next(presenceIs(3, 2));
    // A guest signing in becomes a chatter.
    await guest.request({ type: 'auth', token }, (f) => f.type === 'authenticated');
    await signed1.next(presenceIs(3, 3));
    // Leaving is pushed by the periodic tick.
    await signed2.close();
    const from = guest.frames.length;
    await guest.next(presenceIs(2, 2), 3000, from);
    // No change → no new frame.
    const count = guest.frames.filter((f) => f.type === 'presence').length;
    await sleep(800);
    assert.equal(guest.frames.filter((f) => f.type === 'presence').length, count);
    assert.deepEqual(lastPresence(guest), { type: 'presence', channel: ch, viewers: 2, chatters: 2 });
    await guest.close();
    await signed1.close();
  });
});
