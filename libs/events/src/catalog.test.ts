import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromWire, InvalidEventError, newEvent, toWire, validateEventData, validateRecorded } from './index.js';
import { eventFilter, eventSubject, streams, categoryOf } from './names.js';

const channelId = '6c1f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3e';

describe('event catalog', () => {
  it('validates a known event at its current version', () => {
    const e = newEvent('ChannelInfoUpdated', { channelId, username: 'alice', title: 'Hello', category: 'Games' });
    assert.equal(e.version, 1);
    assert.equal(e.data.title, 'Hello');
  });

  it('refuses unknown types, unknown versions and invalid payloads with a clear error', () => {
    assert.throws(() => validateEventData('NoSuchEvent', 1, {}), (e: unknown) => e instanceof InvalidEventError && /unknown event type "NoSuchEvent"/.test(e.message));
    assert.throws(() => validateEventData('PublishRejected', 99, {}), /unknown version 99/);
    assert.throws(
      () => validateEventData('ChannelInfoUpdated', 1, { channelId: 'nope', username: 'alice', title: 'x'.repeat(141), category: '' }),
      (e: unknown) => e instanceof InvalidEventError && e.issues.some((i) => i.startsWith('channelId')) && e.issues.some((i) => i.startsWith('title')),
    );
  });

  it('refuses a password or key field smuggled into an event (schemas strip unknown fields)', () => {
    const data = validateEventData('PublishRejected', 1, { channelId: null, reason: 'malformed_key', remoteAddress: '127.0.0.1', streamKey: 'secret' });
    assert.equal((data as Record<string, unknown>)['streamKey'], undefined);
  });

  it('round-trips the wire form and validates recorded events', () => {
    const rec = {
      id: 'e0000000-0000-4000-8000-000000000001',
      type: 'PublishRejected',
      version: 1,
      streamName: streams.ingest(null),
      revision: 3n,
      globalPosition: 12345678901234n,
      occurredAt: new Date('2026-11-22T20:00:00.000Z'),
      data: { channelId: null, reason: 'invalid_key', remoteAddress: '10.0.0.1' },
      metadata: { correlationId: 'c1' },
    };
    const back = fromWire(JSON.parse(JSON.stringify(toWire(rec))));
    assert.deepEqual(back, rec);
    assert.equal(validateRecorded(back).type, 'PublishRejected');
    assert.throws(() => fromWire({ ...toWire(rec), revision: 'x' }), InvalidEventError);
    assert.throws(() => fromWire(null), InvalidEventError);
  });

  it('upcasts ChatMessageRefused v1 (no refusedAt) to v2 with the event time; bare data gets the epoch', () => {
    const v1 = { channelId, username: 'alice', senderId: 'e0000000-0000-4000-8000-000000000002', senderName: 'rude', reason: 'blocked_term' };
    const rec = { id: 'e0000000-0000-4000-8000-000000000003', type: 'ChatMessageRefused', version: 1, streamName: streams.chat(channelId), revision: 0n, globalPosition: 7n, occurredAt: new Date('2026-11-23T03:00:00.123Z'), data: v1, metadata: {} };
    const up = validateRecorded(rec);
    assert.equal(up.version, 2);
    assert.deepEqual(up.data, { ...v1, refusedAt: '2026-11-23T03:00:00.123Z' });
    assert.equal((validateEventData('ChatMessageRefused', 1, v1) as { refusedAt: string }).refusedAt, '1970-01-01T00:00:00.000Z');
    assert.throws(() => validateEventData('ChatMessageRefused', 2, v1), /refusedAt/);
  });

  it('names streams and subjects by category', () => {
    assert.equal(streams.account(channelId), `account-${channelId}`);
    assert.equal(streams.username('Alice'), 'username-alice');
    assert.equal(categoryOf(streams.broadcast(channelId)), 'broadcast');
    assert.equal(eventSubject(streams.broadcast(channelId), 'BroadcastStarted', { channelId, username: 'alice' }), 'eventcast.events.broadcast.alice.BroadcastStarted');
    // No channel name (or one that is not a subject token): the fixed token `_`.
    assert.equal(eventSubject(streams.clip(channelId), 'ClipDeleted', { clipId: channelId }), 'eventcast.events.clip._.ClipDeleted');
    assert.equal(eventSubject(streams.chat(channelId), 'ChatMessageSent', { username: 'a.b' }), 'eventcast.events.chat._.ChatMessageSent');
    assert.equal(eventFilter({ channel: 'alice' }), 'eventcast.events.*.alice.*');
    assert.equal(eventFilter({ category: 'account', type: 'ChannelInfoUpdated' }), 'eventcast.events.account.*.ChannelInfoUpdated');
  });
});
