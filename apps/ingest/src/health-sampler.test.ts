import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthSampleRequestSchema, type HealthSampleRequest } from '@eventcast/contracts';
import { createLogger } from '@eventcast/platform';
import type { ChannelHealth } from './channels.js';
import { HealthSampler, healthSampleOf } from './health-sampler.js';

const channel = (over: Partial<ChannelHealth> = {}, packager: Record<string, unknown> = {}): ChannelHealth => ({
  channelId: '00000000-0000-4000-8000-0000000000c1',
  username: 'alice',
  broadcastId: '00000000-0000-4000-8000-0000000000b1',
  connected: true,
  publishingSince: '2026-12-07T12:00:00.000Z',
  media: { videoCodec: 'h264', audioCodec: 'aac', width: 1920, height: 1080, frameRate: 60, videoBitrateKbps: 6000, audioSampleRate: 48000, audioChannels: 2 },
  input: {
    windowSeconds: 5, bitrateKbps: 3160, videoBitrateKbps: 3000, audioBitrateKbps: 160, fps: 59.9, keyframeIntervalSeconds: 8.3,
    maxKeyframeIntervalSeconds: 8.33, secondsSinceKeyframe: 1, videoFrames: 600, keyframes: 2, secondsSinceLastPacket: 0,
  },
  // A packager status without `mode` (as before the LL-HLS packager) unless the test passes one.
  packager: { running: true, restarts: 1, progress: { frames: 10, fps: 60, dropFrames: 7, dupFrames: 0, speed: 1, outTimeSeconds: 10, at: '2026-12-07T12:00:10.000Z' }, ...packager } as unknown as ChannelHealth['packager'],
  ...over,
});

describe('health sampler', () => {
  it('turns a live channel’s health into a valid sample with the warnings of the one rule', () => {
    const s = healthSampleOf(channel(), 10_000, Date.parse('2026-12-07T12:00:10.000Z'))!;
    assert.ok(healthSampleRequestSchema.safeParse(s).success);
    assert.equal(s.intervalSeconds, 10);
    assert.deepEqual([s.videoCodec, s.audioCodec, s.width, s.height], ['h264', 'aac', 1920, 1080]);
    assert.deepEqual(s.packager, { running: true, drops: 7, restarts: 1, mode: null });
    assert.deepEqual(s.warnings.map((w) => w.code), ['keyframe_interval_high', 'bitrate_low']);
  });

  it('reports drops and restarts cumulated over the broadcast, not the current ffmpeg run', () => {
    // A restarted ffmpeg reports drop_frames from 0 again and the restart budget was reset: the totals keep counting.
    const p = { restarts: 0, restartsTotal: 4, malformed: 2, droppedFramesTotal: 12, progress: { frames: 5, fps: 30, dropFrames: 0, dupFrames: 0, speed: 1, outTimeSeconds: 1, at: '2026-12-07T12:00:10.000Z' } };
    assert.deepEqual(healthSampleOf(channel({}, p), 10_000, Date.now())!.packager, { running: true, drops: 14, restarts: 4, mode: null });
  });

  it('reads the packager mode only when it is one of the contract’s values', () => {
    assert.equal(healthSampleOf(channel({}, { mode: 'reencode', reason: 'keyframe interval 8.3 s' }), 10_000, Date.now())!.packager.mode, 'reencode');
    assert.equal(healthSampleOf(channel({}, { mode: 'something else' }), 10_000, Date.now())!.packager.mode, null);
  });

  it('maps unknown codec text to other and skips channels without a broadcast, a publisher or a meter', () => {
    const odd = channel({ media: { ...channel().media!, videoCodec: 'weird<codec>' } });
    assert.equal(healthSampleOf(odd, 10_000, Date.now())!.videoCodec, 'other');
    assert.equal(healthSampleOf(channel({ broadcastId: null }), 10_000, Date.now()), null);
    assert.equal(healthSampleOf(channel({ connected: false }), 10_000, Date.now()), null);
    assert.equal(healthSampleOf(channel({ input: null }), 10_000, Date.now()), null);
  });

  it('sends one sample per live channel per tick and survives a failing send', async () => {
    const sent: HealthSampleRequest[] = [];
    let calls = 0;
    const sampler = new HealthSampler({
      channels: () => [channel(), channel({ channelId: '00000000-0000-4000-8000-0000000000c2', broadcastId: null })],
      send: (s) => {
        calls += 1;
        if (calls === 1) return Promise.reject(new Error('NATS down'));
        sent.push(s);
        return Promise.resolve({ ok: true, recorded: 1 });
      },
      intervalMs: 10_000,
      log: createLogger('health-sampler-test'),
    });
    await sampler.tick();
    await sampler.tick();
    assert.equal(calls, 2);
    assert.equal(sent.length, 1);
  });
});
