/**
 * Stream health for the streamer (issue 10 item 5), against the whole platform (ingest with node-media-server,
 * command side, event store, NATS, query-api): an encoder with a 4-s keyframe interval gets the keyframe warning in
 * its owner's health read model (ingest sample → `ingest.health-sample` → BroadcastHealthSampled → projection →
 * `GET /analytics/channels/:username/health`), nobody else may read it, and an audio-only publish and an unsupported
 * video codec (Sorenson H.263, `-c:v flv1`) are refused with the reason told to the encoder (ffmpeg prints "Server
 * error: NetStream.Publish.Rejected: …") and shown to the owner.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChannelHealthResponse } from '@eventcast/contracts';
import type { Browser } from 'playwright-core';
import { openPageAs, registerAccount, type TestAccount } from './accounts.js';
import { eventually, launchChromium, spawnPublisher, startE2ePlatform, type E2eEnv, type Publisher } from './harness.js';

/** Runs ffmpeg with `input`/`codec` arguments publishing to `url` for up to `seconds` (harness `spawnPublisher`). */
function ffmpegPublish(url: string, args: string[], seconds: number): Publisher {
  return spawnPublisher(['-hide_banner', '-loglevel', 'warning', '-re', ...args, '-t', String(seconds), '-f', 'flv', url]);
}

const VIDEO_4S_GOP = [
  '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '120', '-keyint_min', '120',
  '-sc_threshold', '0', '-b:v', '300k', '-c:a', 'aac', '-b:a', '64k', '-ar', '48000',
];
const VIDEO_ONLY = [
  '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
  '-pix_fmt', 'yuv420p', '-g', '30', '-b:v', '300k', '-an',
];
const AUDIO_ONLY = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:a', 'aac', '-b:a', '64k'];
const FLV1_VIDEO = [
  '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
  '-c:v', 'flv1', '-b:v', '300k', '-c:a', 'aac', '-b:a', '64k', '-ar', '44100',
];

describe('stream health for the streamer (whole platform)', () => {
  let env: E2eEnv;
  let owner: TestAccount;
  let other: TestAccount;
  let key: string;
  let browser: Browser | undefined;
  const health = async (token?: string): Promise<Response> =>
    fetch(`${env.platform.urls.queryApi}/analytics/channels/${owner.username}/health`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const ownerHealth = async (): Promise<ChannelHealthResponse> => {
    const r = await health(owner.token);
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as ChannelHealthResponse;
  };
  const notLive = () => eventually('the channel not live', async () => !(await ownerHealth()).live, 20_000);

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'info', env: { INGEST_HEALTH_SAMPLE_MS: '2000' } });
    const suffix = Date.now().toString(36);
    owner = await registerAccount(env.platform.urls.commandApi, `health_${suffix}`);
    other = await registerAccount(env.platform.urls.commandApi, `other_${suffix}`);
    const res = await fetch(`${env.platform.urls.commandApi}/me/stream-key`, { headers: { authorization: `Bearer ${owner.token}` } });
    key = ((await res.json()) as { streamKey: string }).streamKey;
  });
  after(async () => {
    await browser?.close();
    await env?.dispose();
  });

  it('a 4-s keyframe interval shows the keyframe warning with the measured interval, to the owner only', async () => {
    const pub = ffmpegPublish(`${env.platform.urls.rtmp}/${key}`, VIDEO_4S_GOP, 40);
    try {
      const h = await eventually('a health sample with the keyframe warning', async () => {
        const v = await ownerHealth();
        return v.latest?.warnings.some((w) => w.code === 'keyframe_interval_high') ? v : null;
      }, 30_000);
      assert.equal(h.live, true);
      const latest = h.latest!;
      const w = latest.warnings.find((x) => x.code === 'keyframe_interval_high')!;
      assert.ok(w.measured !== null && w.measured >= 3.8 && w.measured <= 4.2, `measured ${w.measured}`);
      assert.equal(w.limit, 2);
      assert.ok(latest.maxKeyframeIntervalSeconds! >= 3.8 && latest.maxKeyframeIntervalSeconds! <= 4.2);
      assert.equal(latest.videoCodec, 'h264');
      assert.equal(latest.audioCodec, 'aac');
      assert.deepEqual([latest.width, latest.height], [320, 180]);
      assert.ok(latest.fps !== null && latest.fps > 25 && latest.fps < 35, `fps ${latest.fps}`);
      assert.ok(latest.videoBitrateKbps !== null && latest.videoBitrateKbps > 0);
      assert.equal(latest.intervalSeconds, 2);
      assert.ok(!latest.warnings.some((x) => x.code === 'audio_missing'), JSON.stringify(latest.warnings));

      assert.equal((await health()).status, 401, 'no token');
      assert.equal((await health(other.token)).status, 403, 'another user');

      const series = await fetch(`${env.platform.urls.queryApi}/analytics/broadcasts/${h.broadcastId}/health`, { headers: { authorization: `Bearer ${owner.token}` } });
      assert.equal(series.status, 200);
      const body = (await series.json()) as { samples: unknown[] };
      assert.ok(body.samples.length >= 1);
      const foreign = await fetch(`${env.platform.urls.queryApi}/analytics/broadcasts/${h.broadcastId}/health`, { headers: { authorization: `Bearer ${other.token}` } });
      assert.equal(foreign.status, 403);

      // The dashboard shows the numbers and the warning in words, with the fix at the source.
      browser = await launchChromium();
      const page = await openPageAs(browser, env.platform.urls.web, owner, '/dashboard');
      const warning = page.locator('[data-testid="health-warnings"] [data-code="keyframe_interval_high"]');
      await warning.waitFor({ timeout: 20_000 });
      assert.match(await warning.innerText(), /Keyframe interval is 4(\.\d)? s.*Output Mode "Advanced".*Keyframe Interval 1–2 s/s);
      assert.match(await page.getByTestId('health-codecs').innerText(), /H\.264 \/ AAC/);
      await page.close();
    } finally {
      await pub.stop();
    }
    await notLive();
    assert.equal((await ownerHealth()).latest, null, 'no live sample once the broadcast ended');
  });

  it('a video-only publish is accepted, with the audio_missing warning and no keyframe warning', async () => {
    const pub = ffmpegPublish(`${env.platform.urls.rtmp}/${key}`, VIDEO_ONLY, 30);
    try {
      const h = await eventually('a health sample of the video-only broadcast', async () => {
        const v = await ownerHealth();
        return v.latest && v.latest.maxKeyframeIntervalSeconds !== null ? v : null;
      }, 20_000);
      const codes = h.latest!.warnings.map((w) => w.code);
      assert.ok(codes.includes('audio_missing') && !codes.includes('keyframe_interval_high'), JSON.stringify(codes));
      assert.equal(h.latest!.audioCodec, null);
      assert.equal(pub.stderr().includes('Server error'), false, pub.stderr());
    } finally {
      await pub.stop();
    }
    await notLive();
  });

  it('an audio-only publish is refused with the reason, and the owner sees it', async () => {
    const pub = ffmpegPublish(`${env.platform.urls.rtmp}/${key}`, AUDIO_ONLY, 20);
    const code = await Promise.race([pub.exited, new Promise((r) => setTimeout(() => r('still publishing'), 15_000))]);
    await pub.stop();
    assert.notEqual(code, 'still publishing', 'a refused encoder must be disconnected');
    assert.match(pub.stderr(), /Server error: NetStream\.Publish\.Rejected: the stream has no video/);
    const h = await eventually('the refusal in the owner health', async () => {
      const v = await ownerHealth();
      return v.lastRefusal?.reason === 'no_video' ? v : null;
    });
    assert.equal(h.lastRefusal!.audioCodec, 'aac');
    assert.equal(h.lastRefusal!.videoCodec, null);
    await notLive();
  });

  it('an unsupported video codec (Sorenson H.263, flv1) is refused with the reason, and the owner sees it', async () => {
    const pub = ffmpegPublish(`${env.platform.urls.rtmp}/${key}`, FLV1_VIDEO, 20);
    const code = await Promise.race([pub.exited, new Promise((r) => setTimeout(() => r('still publishing'), 15_000))]);
    await pub.stop();
    assert.notEqual(code, 'still publishing', 'a refused encoder must be disconnected');
    assert.match(pub.stderr(), /Server error: NetStream\.Publish\.Rejected: unsupported video codec; send H\.264/);
    const h = await eventually('the refusal in the owner health', async () => {
      const v = await ownerHealth();
      return v.lastRefusal?.reason === 'unsupported_video_codec' ? v : null;
    });
    assert.equal(h.lastRefusal!.videoCodec, 'h263');
    await notLive();

    browser ??= await launchChromium();
    const page = await openPageAs(browser, env.platform.urls.web, owner, '/dashboard');
    const shown = page.locator('[data-testid="health-refusal"][data-reason="unsupported_video_codec"]');
    await shown.waitFor({ timeout: 20_000 });
    assert.match(await shown.innerText(), /unsupported video codec; send H\.264/);
    await page.close();
  });
});
