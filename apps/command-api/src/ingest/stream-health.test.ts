/**
 * `ingest.health-sample` and `ingest.input-refused` (issue 10 item 5) on a real event store, NATS (with the platform's
 * authorization model) and the command API: a sample is recorded only for the live broadcast, once per half interval,
 * with the warnings decided by the one rule; encoder text outside the fixed codec sets is refused as bad input.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CommandPatterns } from '@eventcast/events';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

const media = { videoCodec: 'h264', audioCodec: 'aac', width: 640, height: 360, frameRate: 30, videoBitrateKbps: 1000, audioSampleRate: 48000, audioChannels: 2 };

describe('stream health commands over NATS', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { natsAuth: true });
  });
  after(async () => {
    await h.stop();
  });

  const sample = (channelId: string, broadcastId: string, sampledAt: string, over: Record<string, unknown> = {}) => ({
    channelId, broadcastId, sampledAt, intervalSeconds: 10, windowSeconds: 5, bitrateKbps: 1100, videoBitrateKbps: 1000,
    audioBitrateKbps: 100, fps: 30, keyframeIntervalSeconds: 4, maxKeyframeIntervalSeconds: 4, width: 640, height: 360,
    videoCodec: 'h264', audioCodec: 'aac', announcedVideoBitrateKbps: 1000, announcedFrameRate: 30,
    packager: { running: true, drops: 0, restarts: 0, mode: 'passthrough' }, warnings: [], ...over,
  });

  it('records samples of the live broadcast only, once per half interval, with the warnings of the one rule', async () => {
    const { token, id } = await register(h, 'hana');
    await h.http('GET', '/me/stream-key', undefined, bearer(token));
    const b = randomUUID();
    const notYet = await h.request<Record<string, unknown>>(CommandPatterns.HealthSample, sample(id, b, '2026-12-07T12:00:00.000Z'));
    assert.deepEqual([notYet['ok'], notYet['code']], [false, 'not_live']);

    assert.deepEqual(await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b, media }), { ok: true, broadcastId: b, record: true });
    assert.deepEqual(await h.request(CommandPatterns.HealthSample, sample(id, b, '2026-12-07T12:00:00.000Z')), { ok: true, recorded: 1 });
    assert.deepEqual(await h.request(CommandPatterns.HealthSample, sample(id, b, '2026-12-07T12:00:03.000Z')), { ok: true, recorded: 0 }, 'within half an interval');
    const other = randomUUID();
    const wrong = await h.request<Record<string, unknown>>(CommandPatterns.HealthSample, sample(id, other, '2026-12-07T12:00:10.000Z'));
    assert.deepEqual([wrong['ok'], wrong['code']], [false, 'not_live'], 'a broadcast that is not the live one');

    const evil = await h.request<Record<string, unknown>>(CommandPatterns.HealthSample, sample(id, b, '2026-12-07T12:00:10.000Z', { videoCodec: '<img src=x>' }));
    assert.deepEqual([evil['ok'], evil['code']], [false, 'invalid_request']);
    const huge = await h.request<Record<string, unknown>>(CommandPatterns.HealthSample, sample(id, b, '2026-12-07T12:00:10.000Z', { fps: 1e9 }));
    assert.deepEqual([huge['ok'], huge['code']], [false, 'invalid_request']);

    assert.deepEqual(await h.request(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId: b, reason: 'unpublished' }), { ok: true });
    const ended = await h.request<Record<string, unknown>>(CommandPatterns.HealthSample, sample(id, b, '2026-12-07T12:00:20.000Z'));
    assert.deepEqual([ended['ok'], ended['code']], [false, 'not_live']);

    const events = (await h.allEvents()).filter((e) => e.type === 'BroadcastHealthSampled');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.streamName, `health-${b}`);
    assert.deepEqual((events[0]!.data as { warnings: unknown }).warnings, [{ code: 'keyframe_interval_high', measured: 4, limit: 2 }]);
  });

  it('records a publish refused for its media on the channel’s ingest stream', async () => {
    const { id } = await register(h, 'ines');
    const refusedAt = new Date().toISOString();
    const req = { channelId: id, reason: 'unsupported_video_codec', videoCodec: 'h263', audioCodec: 'aac', refusedAt };
    assert.deepEqual(await h.request(CommandPatterns.InputRefused, req), { ok: true, recorded: 1 });
    const bad = await h.request<Record<string, unknown>>(CommandPatterns.InputRefused, { ...req, reason: 'because I said so' });
    assert.deepEqual([bad['ok'], bad['code']], [false, 'invalid_request']);
    const events = (await h.allEvents()).filter((e) => e.type === 'PublishInputRefused');
    assert.deepEqual(events.map((e) => [e.streamName, e.data]), [[`ingest-${id}`, req]]);
  });

  it('records an identical refusal (same reason and codecs) once per minute: a reconnect loop does not grow the stream', async () => {
    const { id } = await register(h, 'rory');
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, 0) + ms).toISOString();
    const req = { channelId: id, reason: 'unsupported_video_codec', videoCodec: 'h263', audioCodec: 'aac', refusedAt: at(1000) };
    assert.deepEqual(await h.request(CommandPatterns.InputRefused, req), { ok: true, recorded: 1 });
    for (let i = 2; i < 12; i++) {
      assert.deepEqual(await h.request(CommandPatterns.InputRefused, { ...req, refusedAt: at(i * 5000) }), { ok: true, recorded: 0 }, `repeat ${i}`);
    }
    const other = { ...req, audioCodec: 'mp3', refusedAt: at(3000) };
    assert.deepEqual(await h.request(CommandPatterns.InputRefused, other), { ok: true, recorded: 1 }, 'other codecs are another refusal');
    assert.deepEqual(await h.request(CommandPatterns.InputRefused, { ...req, refusedAt: at(61_000) }), { ok: true, recorded: 1 }, 'a minute later');
    const events = (await h.allEvents()).filter((e) => e.type === 'PublishInputRefused' && e.streamName === `ingest-${id}`);
    assert.equal(events.length, 3);
  });
});
