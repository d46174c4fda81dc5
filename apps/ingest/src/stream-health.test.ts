/**
 * Unit tests of the input meter (./stream-health.ts) with synthetic node-media-server packets on a fake clock, the
 * ffmpeg `-progress` block parser, and the admin JWT check of `GET /admin/health`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { authorizeAdmin } from './admin-health.js';
import { parseProgressBlock } from './live/packager.js';
import { HEALTH_WINDOW_MS, StreamHealthMeter, tapPackets, type MediaPacket } from './stream-health.js';

void describe('StreamHealthMeter', () => {
  /** `seconds` of a 30 fps stream with a keyframe every `gop` frames (video 2500 B/frame) and 50 audio packets/s of 200 B. */
  function feed(meter: StreamHealthMeter, clock: { t: number }, seconds: number, gop: number, startFrame = 0): void {
    const frames = seconds * 30;
    for (let i = 0; i < frames; i++) {
      const f = startFrame + i;
      clock.t = 1_000_000 + Math.round((f * 1000) / 30);
      meter.onPacket({ codec_type: 9, flags: f % gop === 0 ? 3 : 4, dts: Math.round((f * 1000) / 30), size: 2500 });
      if (f % 3 === 0) for (let a = 0; a < 5; a++) meter.onPacket({ codec_type: 8, flags: 1, dts: Math.round((f * 1000) / 30), size: 200 });
    }
  }

  void it('measures kbit/s, fps and the keyframe interval over the window', () => {
    const clock = { t: 1_000_000 };
    const meter = new StreamHealthMeter(() => clock.t);
    meter.onPacket({ codec_type: 9, flags: 2, dts: 0, size: 40 }); // decoder configuration: no frame
    feed(meter, clock, 10, 60);
    const h = meter.snapshot();
    assert.equal(h.windowSeconds, HEALTH_WINDOW_MS / 1000);
    // Video: 30 × 2500 B/s = 600 kbit/s; audio: 50 × 200 B/s = 80 kbit/s (± one packet at the window edge).
    assert.ok(Math.abs(h.videoBitrateKbps! - 600) < 5, String(h.videoBitrateKbps));
    assert.ok(Math.abs(h.audioBitrateKbps! - 80) < 3, String(h.audioBitrateKbps));
    assert.ok(Math.abs(h.bitrateKbps! - 680) < 8);
    assert.equal(h.fps, 30);
    assert.equal(h.keyframeIntervalSeconds, 2);
    assert.equal(h.maxKeyframeIntervalSeconds, 2);
    assert.equal(h.videoFrames, 300);
    assert.equal(h.keyframes, 5);
  });

  void it('reports the largest recent keyframe gap and silence', () => {
    const clock = { t: 1_000_000 };
    const meter = new StreamHealthMeter(() => clock.t);
    feed(meter, clock, 4, 30); // 1 s GOP
    // An encoder stall: the next keyframe comes 6 s of media time later.
    clock.t += 6000;
    meter.onPacket({ codec_type: 9, flags: 3, dts: 4000 + 6000, size: 2500 });
    clock.t += 3000;
    const h = meter.snapshot();
    assert.equal(h.maxKeyframeIntervalSeconds, 7);
    assert.ok(h.keyframeIntervalSeconds! > 1 && h.keyframeIntervalSeconds! < 7);
    assert.equal(h.secondsSinceLastPacket, 3);
    assert.equal(h.secondsSinceKeyframe, 3);
    assert.equal(h.fps, null, 'one frame in the window: no rate');
  });

  void it('has no rates before a second of data', () => {
    const clock = { t: 5 };
    const meter = new StreamHealthMeter(() => clock.t);
    meter.onPacket({ codec_type: 9, flags: 3, dts: 0, size: 100 });
    const h = meter.snapshot();
    assert.equal(h.bitrateKbps, null);
    assert.equal(h.keyframeIntervalSeconds, null);
    assert.equal(h.keyframes, 1);
  });

  void it('tapPackets wraps the RTMP packet callback and keeps calling it', () => {
    const seen: MediaPacket[] = [];
    const session = { rtmp: { onPacketCallback: (p: MediaPacket) => void seen.push(p) } };
    const meter = new StreamHealthMeter();
    assert.equal(tapPackets(session, meter), true);
    session.rtmp.onPacketCallback({ codec_type: 9, flags: 3, dts: 0, size: 10 });
    assert.equal(seen.length, 1);
    assert.equal(meter.snapshot().keyframes, 1);
    assert.equal(tapPackets({}, meter), false);
  });
});

void describe('parseProgressBlock', () => {
  void it('reads the fields of an ffmpeg -progress block', () => {
    const p = parseProgressBlock(
      ['frame=250', 'fps=25.01', 'bitrate=N/A', 'out_time_us=10000000', 'dup_frames=0', 'drop_frames=2', 'speed=1.01x', 'progress=continue'],
      new Date('2026-11-23T00:00:00Z'),
    );
    assert.deepEqual(p, { frames: 250, fps: 25.01, dropFrames: 2, dupFrames: 0, speed: 1.01, outTimeSeconds: 10, at: '2026-11-23T00:00:00.000Z' });
    assert.equal(parseProgressBlock(['speed=N/A'], new Date()).speed, null);
  });
});

void describe('authorizeAdmin', () => {
  const secret = 'unit-test-secret-0123456789';
  const sign = (claims: Record<string, unknown>, s = secret, exp = '5m') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(randomUUID()).setExpirationTime(exp).sign(new TextEncoder().encode(s));

  void it('401 missing/invalid/expired, 403 non-admin, ok for a listed admin (case-insensitive)', async () => {
    assert.deepEqual(await authorizeAdmin(undefined, secret, ['boss']), { ok: false, status: 401, message: 'missing bearer token' });
    assert.deepEqual(await authorizeAdmin('Basic x', secret, ['boss']), { ok: false, status: 401, message: 'missing bearer token' });
    const wrong = await authorizeAdmin(`Bearer ${await sign({ username: 'boss' }, 'some-other-secret-123456')}`, secret, ['boss']);
    assert.equal(wrong.ok ? 0 : wrong.status, 401);
    const expired = await authorizeAdmin(`Bearer ${await sign({ username: 'boss' }, secret, '-1m')}`, secret, ['boss']);
    assert.equal(expired.ok ? 0 : expired.status, 401);
    const noName = await authorizeAdmin(`Bearer ${await sign({}, secret)}`, secret, ['boss']);
    assert.equal(noName.ok ? 0 : noName.status, 401);
    const user = await authorizeAdmin(`Bearer ${await sign({ username: 'alice' }, secret)}`, secret, ['boss']);
    assert.equal(user.ok ? 0 : user.status, 403);
    assert.deepEqual(await authorizeAdmin(`bearer ${await sign({ username: 'BOSS' }, secret)}`, secret, ['boss']), { ok: true, username: 'BOSS' });
  });
});
