import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandPatterns, InvalidEventError, newEvent, streams, eventSubject, validateEventData } from './index.js';

const broadcastId = '6c1f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3e';
const channelId = '7d2f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3f';

describe('audience events', () => {
  it('validates samples and viewer joins on the audience stream of a broadcast', () => {
    const s = newEvent('BroadcastViewersSampled', { broadcastId, channelId, viewers: 12, chatters: 3, sampledAt: '2026-11-22T12:00:00.000Z', intervalSeconds: 15 });
    assert.equal(s.version, 1);
    assert.equal(eventSubject(streams.audience(broadcastId), s.type, s.data), 'eventcast.events.audience._.BroadcastViewersSampled');
    assert.equal(newEvent('ViewerJoinedBroadcast', { broadcastId, channelId, viewerKey: `account:${channelId}` }).data.viewerKey, `account:${channelId}`);
    assert.equal(newEvent('ViewerJoinedBroadcast', { broadcastId, channelId, viewerKey: 'guest:0123456789abcdef0123456789abcdef' }).type, 'ViewerJoinedBroadcast');
    assert.equal(CommandPatterns.AudienceSample, 'audience.sample');
  });

  it('refuses raw addresses or session ids as viewer keys and negative counts', () => {
    for (const viewerKey of ['10.0.0.1', 'guest:abc', 'session:0123456789abcdef0123456789abcdef', `account:${channelId}x`]) {
      assert.throws(() => validateEventData('ViewerJoinedBroadcast', 1, { broadcastId, channelId, viewerKey }), InvalidEventError, viewerKey);
    }
    assert.throws(
      () => validateEventData('BroadcastViewersSampled', 1, { broadcastId, channelId, viewers: -1, chatters: 0, sampledAt: 'now', intervalSeconds: 0 }),
      (e: unknown) => e instanceof InvalidEventError && ['viewers', 'sampledAt', 'intervalSeconds'].every((f) => e.issues.some((i) => i.startsWith(f))),
    );
  });
});
