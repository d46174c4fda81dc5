import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { decodeRelayable } from './relayable.js';
import { broadcastEnded, broadcastStarted, channelInfoUpdated, chatEvent, chatMessageSent, wireEvent } from './test-support.js';

const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

void test('relays an allowlisted event as a channel frame without metadata', () => {
  const ev = broadcastStarted('alice');
  const d = decodeRelayable(bytes({ ...ev, data: { ...(ev.data as object), extra: 'dropped by the schema' } }));
  assert.equal(d.relay, true);
  if (!d.relay) return;
  assert.equal(d.channel, 'alice');
  assert.deepEqual(Object.keys(d.event).sort(), ['data', 'globalPosition', 'id', 'occurredAt', 'type']);
  assert.equal(d.event.globalPosition, ev.globalPosition);
  assert.ok(!('extra' in (d.event.data as object)));
  const frame = JSON.parse(d.frame) as { type: string; channel: string; event: { id: string } };
  assert.equal(frame.type, 'event');
  assert.equal(frame.channel, 'alice');
  assert.equal(frame.event.id, ev.id);
  assert.ok(!d.frame.includes('metadata'));
});

void test('does not relay catalog events outside the allowlist, even with a username', () => {
  const accountId = randomUUID();
  const ev = wireEvent(
    'AccountRegistered',
    { accountId, username: 'alice', passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA' },
    `account-${accountId}`,
  );
  assert.deepEqual(decodeRelayable(bytes(ev)), { relay: false, reason: 'not_relayed', type: 'AccountRegistered', id: ev.id });
});

void test('reports invalid bodies instead of throwing', () => {
  const bad = (v: unknown): string | undefined => {
    const d = decodeRelayable(typeof v === 'string' ? bytes(v) : bytes(v));
    return d.relay ? undefined : d.reason;
  };
  assert.equal(bad('not json'), 'invalid');
  assert.equal(decodeRelayable(new Uint8Array([0xff, 0xfe])).relay, false);
  assert.equal(bad({ type: 'BroadcastStarted' }), 'invalid');
  const ev = broadcastStarted('alice');
  assert.equal(bad({ ...ev, data: { username: 'alice' } }), 'invalid');
  assert.equal(bad({ ...ev, version: 99 }), 'invalid');
  assert.equal(bad({ ...ev, type: 'NoSuchEvent' }), 'not_relayed');
});

void test('relays BroadcastEnded and ChannelInfoUpdated to the channel named by data.username', () => {
  for (const ev of [broadcastEnded(broadcastStarted('bob_1')), channelInfoUpdated('bob_1')]) {
    const d = decodeRelayable(bytes(ev));
    assert.ok(d.relay);
    if (d.relay) assert.deepEqual([d.channel, d.event.type, d.event.id], ['bob_1', ev.type, ev.id]);
  }
});

void test('relays ChannelLatencyModeChanged to the channel named by data.username, and refuses an unknown mode', () => {
  const channelId = randomUUID();
  const ev = wireEvent('ChannelLatencyModeChanged', { channelId, username: 'dora', latencyMode: 'smooth' }, `account-${channelId}`);
  const d = decodeRelayable(bytes(ev));
  assert.ok(d.relay);
  if (d.relay) assert.deepEqual([d.channel, d.event.type, d.event.data], ['dora', 'ChannelLatencyModeChanged', { channelId, username: 'dora', latencyMode: 'smooth' }]);
  const bad = decodeRelayable(bytes({ ...ev, data: { channelId, username: 'dora', latencyMode: 'instant' } }));
  assert.equal(bad.relay, false);
});

void test('relays the chat events of RELAYED_CHAT_EVENTS, never ChatBlockedTermsUpdated nor ChatMessageRefused', () => {
  const channelId = randomUUID();
  const mod = { moderatorId: randomUUID(), moderatorName: 'mod_one' };
  const sent = decodeRelayable(bytes(chatMessageSent(channelId, 'carol', 'hi')));
  assert.ok(sent.relay && sent.channel === 'carol' && sent.event.type === 'ChatMessageSent');
  const cleared = decodeRelayable(bytes(chatEvent('ChatCleared', channelId, 'carol', mod)));
  assert.ok(cleared.relay);
  const terms = chatEvent('ChatBlockedTermsUpdated', channelId, 'carol', { ...mod, terms: ['x'], action: 'refuse' });
  assert.equal(decodeRelayable(bytes(terms)).relay, false);
  const refused = chatEvent('ChatMessageRefused', channelId, 'carol', { senderId: randomUUID(), senderName: 'rude', reason: 'blocked_term' });
  assert.equal(decodeRelayable(bytes(refused)).relay, false);
});
