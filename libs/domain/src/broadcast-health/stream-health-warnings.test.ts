import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  healthAudioCodec,
  healthSampleRequestSchema,
  healthVideoCodec,
  healthWarningText,
  rtmpRefusalStatus,
  streamHealthWarnings,
  type HealthWarningInput,
} from '@eventcast/contracts';

const healthy: HealthWarningInput = {
  videoBitrateKbps: 2900,
  audioBitrateKbps: 160,
  fps: 30,
  maxKeyframeIntervalSeconds: 2,
  announcedVideoBitrateKbps: 3000,
  announcedFrameRate: 30,
  audioCodec: 'aac',
  windowSeconds: 5,
};
const codes = (m: Partial<HealthWarningInput>) => streamHealthWarnings({ ...healthy, ...m }).map((w) => w.code);

describe('streamHealthWarnings (issue 10 item 5 thresholds)', () => {
  it('raises nothing for a healthy 2-s GOP input, including timestamp jitter on the interval', () => {
    assert.deepEqual(codes({}), []);
    assert.deepEqual(codes({ maxKeyframeIntervalSeconds: 2.002 }), []);
  });

  it('warns above a 2-s keyframe interval with the measured seconds and a fix in words', () => {
    const [w] = streamHealthWarnings({ ...healthy, maxKeyframeIntervalSeconds: 4 });
    assert.deepEqual(w, { code: 'keyframe_interval_high', measured: 4, limit: 2 });
    assert.match(healthWarningText(w), /4 s.*Output Mode "Advanced".*Keyframe Interval 1–2 s/);
    assert.deepEqual(codes({ maxKeyframeIntervalSeconds: 2.2 }), ['keyframe_interval_high']);
  });

  it('warns when the video bitrate falls more than 30 % under the announced value, not at 30 %', () => {
    assert.deepEqual(codes({ videoBitrateKbps: 2100 }), []);
    const w = streamHealthWarnings({ ...healthy, videoBitrateKbps: 2000 });
    assert.deepEqual(w, [{ code: 'bitrate_low', measured: 2000, limit: 2100 }]);
    assert.deepEqual(codes({ videoBitrateKbps: 10, announcedVideoBitrateKbps: null }), [], 'nothing announced: no judgement');
  });

  it('warns when the frame rate is below the announced one beyond max(5 %, 1 fps)', () => {
    assert.deepEqual(codes({ fps: 29.2 }), []);
    assert.deepEqual(codes({ fps: 27 }), ['frame_rate_low']);
    assert.deepEqual(codes({ fps: 57.5, announcedFrameRate: 60 }), []);
    assert.deepEqual(codes({ fps: 56, announcedFrameRate: 60 }), ['frame_rate_low']);
  });

  it('warns when audio is missing: no track, or no audio bytes over a window of 2 s or more', () => {
    assert.deepEqual(codes({ audioCodec: null, audioBitrateKbps: null }), ['audio_missing']);
    assert.deepEqual(codes({ audioBitrateKbps: 0 }), ['audio_missing']);
    assert.deepEqual(codes({ audioBitrateKbps: null, windowSeconds: 1 }), [], 'too early to tell');
  });

  it('lists several warnings in a fixed order and ignores unmeasured values', () => {
    assert.deepEqual(codes({ maxKeyframeIntervalSeconds: 8.3, videoBitrateKbps: 500, fps: 10, audioCodec: null }), [
      'keyframe_interval_high', 'bitrate_low', 'frame_rate_low', 'audio_missing',
    ]);
    assert.deepEqual(codes({ fps: null, videoBitrateKbps: null, maxKeyframeIntervalSeconds: null }), []);
  });
});

describe('codec names and refusals', () => {
  it('maps codec names to the fixed sets, unknown text to other', () => {
    assert.equal(healthVideoCodec('H264'), 'h264');
    assert.equal(healthVideoCodec('flv1'), 'h263');
    assert.equal(healthVideoCodec('<script>'), 'other');
    assert.equal(healthVideoCodec(null), null);
    assert.equal(healthAudioCodec('mp4a'), 'aac');
    assert.equal(healthAudioCodec('vorbis'), 'other');
  });

  it('rejects a sample with codec text outside the sets or too many warnings', () => {
    const sample = {
      channelId: '5b0c3f5e-2f55-4a53-9f0f-3b8d6f1f7c11', broadcastId: '7e1c6a0e-5a8e-4a53-9f0f-3b8d6f1f7c12',
      sampledAt: new Date().toISOString(), intervalSeconds: 10, windowSeconds: 5, bitrateKbps: 1, videoBitrateKbps: 1,
      audioBitrateKbps: 0, fps: 30, keyframeIntervalSeconds: 4, maxKeyframeIntervalSeconds: 4, width: 640, height: 360,
      videoCodec: 'h264', audioCodec: 'aac', announcedVideoBitrateKbps: null, announcedFrameRate: 30,
      packager: { running: true, drops: 0, restarts: 0, mode: null }, warnings: [],
    };
    assert.ok(healthSampleRequestSchema.safeParse(sample).success);
    assert.ok(!healthSampleRequestSchema.safeParse({ ...sample, videoCodec: 'evil codec' }).success);
    const w = { code: 'audio_missing', measured: null, limit: null };
    assert.ok(!healthSampleRequestSchema.safeParse({ ...sample, warnings: [w, w, w, w, w] }).success);
  });

  it('tells the encoder why an input is refused, as NetStream.Publish.Rejected', () => {
    assert.equal(rtmpRefusalStatus('no_video').code, 'NetStream.Publish.Rejected');
    assert.match(rtmpRefusalStatus('unsupported_video_codec').description, /^NetStream\.Publish\.Rejected: unsupported video codec; send H\.264/);
  });
});
