/**
 * `audience.sample` and `audience.viewers-joined` over NATS against a real command API (PostgreSQL store, private
 * NATS): recorded only while live, on the live broadcast's `audience-<broadcastId>` stream, each viewer key once per
 * broadcast, one sample per half interval, bad input refused with a reason.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CommandPatterns, streams } from '@eventcast/events';
import { register, startHarness, type Harness } from '../test-support/harness.js';

const media = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, frameRate: 30, videoBitrateKbps: 2500, audioSampleRate: 48000, audioChannels: 2 };
const guest = (n: number) => `guest:${n.toString(16).padStart(32, '0')}`;

describe('audience commands over NATS', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });
  const sample = (channelId: string, sampledAt: string, viewers = 3, chatters = 1) =>
    h.request<Record<string, unknown>>(CommandPatterns.AudienceSample, { channelId, viewers, chatters, sampledAt, intervalSeconds: 15 });
  const joined = (channelId: string, viewerKeys: string[]) => h.request<Record<string, unknown>>(CommandPatterns.AudienceViewersJoined, { channelId, viewerKeys });

  it('refuses while offline, records on the live broadcast, each viewer once, one sample per period', async () => {
    const { id } = await register(h, 'aud_alice');
    assert.deepEqual(await sample(id, '2026-11-22T12:00:00.000Z'), { ok: false, code: 'not_live', message: 'the channel is not live' });
    assert.equal((await joined(id, [guest(1)]))['code'], 'not_live');

    const b1 = randomUUID();
    assert.deepEqual(await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b1, media }), { ok: true, broadcastId: b1, record: true });
    const viewer = `account:${randomUUID()}`;
    assert.deepEqual(await joined(id, [guest(1), viewer, guest(1)]), { ok: true, broadcastId: b1, recorded: 2 });
    assert.deepEqual(await joined(id, [viewer, guest(2)]), { ok: true, broadcastId: b1, recorded: 1 });
    assert.deepEqual(await sample(id, '2026-11-22T12:00:00.000Z'), { ok: true, broadcastId: b1, recorded: 1 });
    assert.deepEqual(await sample(id, '2026-11-22T12:00:05.000Z'), { ok: true, broadcastId: b1, recorded: 0 }, 'a second edge in the same period');
    assert.deepEqual(await sample(id, '2026-11-22T12:00:15.000Z', 5, 2), { ok: true, broadcastId: b1, recorded: 1 });
    assert.equal((await sample(id, '2026-11-22T12:00:30.000Z', 1, 2))['code'], 'invalid_sample');

    await h.request(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId: b1, reason: 'unpublished' });
    assert.equal((await sample(id, '2026-11-22T12:00:45.000Z'))['code'], 'not_live');
    const b2 = randomUUID();
    await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b2, media });
    assert.deepEqual(await joined(id, [viewer]), { ok: true, broadcastId: b2, recorded: 1 }, 'a new broadcast counts the viewer again');

    const events = await h.allEvents();
    const first = events.filter((e) => e.streamName === streams.audience(b1));
    assert.deepEqual(
      first.map((e) => e.type),
      ['ViewerJoinedBroadcast', 'ViewerJoinedBroadcast', 'ViewerJoinedBroadcast', 'BroadcastViewersSampled', 'BroadcastViewersSampled'],
    );
    assert.deepEqual(first[4]?.data, { broadcastId: b1, channelId: id, viewers: 5, chatters: 2, sampledAt: '2026-11-22T12:00:15.000Z', intervalSeconds: 15 });
    assert.equal(events.filter((e) => e.streamName === streams.audience(b2)).length, 1);
  });

  it('refuses malformed requests with the fields at fault', async () => {
    const r = await h.request<Record<string, unknown>>(CommandPatterns.AudienceViewersJoined, { channelId: 'x', viewerKeys: ['10.0.0.1'] });
    assert.equal(r['code'], 'invalid_request');
    assert.match(String(r['message']), /channelId/);
    assert.match(String(r['message']), /viewerKeys/);
    const s = await h.request<Record<string, unknown>>(CommandPatterns.AudienceSample, { channelId: randomUUID(), viewers: -1, chatters: 0, sampledAt: 'now', intervalSeconds: 0 });
    assert.equal(s['code'], 'invalid_request');
    assert.match(String(s['message']), /viewers/);
  });
});
