/**
 * The first release, end to end with real parts only: sign up in the browser, reveal the stream key on the
 * dashboard, publish with ffmpeg as OBS would, watch in Chromium (hls.js), go offline, and check that the event
 * store and the read models agree. A wrong key is refused and leaves a `PublishRejected` event with no secret.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createEventStore } from '@eventcast/event-store';
import type { EventStore } from '@eventcast/event-store';
import { loadConfig } from '@eventcast/platform';
import { eventually, launchChromium, publishTestStream, startE2ePlatform, type E2eEnv } from './harness.js';

interface ChannelView {
  id: string;
  username: string;
  live: boolean;
  title: string;
  broadcast: { id: string; startedAt: string } | null;
  playbackUrl: string | null;
}

describe('go live from OBS and watch in the browser', () => {
  let env: E2eEnv;
  let browser: Browser;
  let store: EventStore;
  const username = `e2e_${Date.now().toString(36)}`;
  const password = 'correct horse battery';
  let streamKey = '';

  before(async () => {
    env = await startE2ePlatform();
    browser = await launchChromium();
    store = await createEventStore(loadConfig({ DATABASE_URL: env.db.url }));
  });

  after(async () => {
    await store?.close();
    await browser?.close();
    await env?.dispose();
  });

  it('signs up in the browser and reveals the stream key on the dashboard', async () => {
    const page = await browser.newPage();
    await page.goto(`${env.platform.urls.web}/signup`);
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/dashboard/, { timeout: 20_000 });
    const keyEl = page.getByTestId('stream-key');
    await page.getByTestId('reveal-key').click();
    streamKey = await eventually('the revealed stream key', async () => {
      const text = (await keyEl.textContent())?.trim() ?? '';
      return /^ec_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/.test(text) ? text : null;
    });
    await page.close();
  });

  it('refuses a wrong key and records it without the secret', async () => {
    const wrong = `${streamKey.slice(0, -4)}AAAA`;
    const bad = publishTestStream(`${env.platform.urls.rtmp}/${wrong}`, { seconds: 20 });
    const code = await Promise.race([bad.exited, new Promise((r) => setTimeout(() => r('still publishing'), 15_000))]);
    await bad.stop();
    assert.notEqual(code, 'still publishing', 'ffmpeg with a wrong key must be disconnected');
    const rejected = await eventually('a PublishRejected event', async () => {
      const events = await store.readAll({ eventTypes: ['PublishRejected'] });
      return events.length > 0 ? events : null;
    });
    assert.equal((rejected[0]?.data as { reason: string }).reason, 'invalid_key');
    const all = JSON.stringify(await store.readAll({ limit: 10_000 }), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    assert.ok(!all.includes(wrong) && !all.includes(streamKey), 'no stream key in any event');
    assert.ok(!all.includes(password), 'no password in any event');
  });

  it('publishes, plays in Chromium with hls.js, then goes offline without a reload', async () => {
    const page = await browser.newPage();
    await page.goto(`${env.platform.urls.web}/${username}`);
    await page.getByTestId('live-status').filter({ hasText: 'Offline' }).waitFor({ timeout: 20_000 });

    const publisher = publishTestStream(`${env.platform.urls.rtmp}/${streamKey}`);
    try {
      await page.getByTestId('live-status').filter({ hasText: 'LIVE' }).waitFor({ timeout: 20_000 });
      const t0 = await eventually(
        'the video to start playing',
        () => page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="player"]')?.currentTime ?? 0),
        30_000,
      );
      await new Promise((r) => setTimeout(r, 3000));
      const t1 = await page.evaluate(() => (document.querySelector('[data-testid="player"]') as HTMLVideoElement).currentTime);
      assert.ok(t1 - t0 > 1.5, `currentTime must advance while live (from ${t0} to ${t1})`);

      const channel = (await (await fetch(`${env.platform.urls.queryApi}/channels/${username}`)).json()) as ChannelView;
      assert.equal(channel.live, true);
      assert.match(channel.playbackUrl ?? '', new RegExp(`/hls/${username}/index\\.m3u8$`));
      assert.ok(!(channel.playbackUrl ?? '').includes(streamKey));
      const playlist = await fetch(channel.playbackUrl ?? '');
      assert.equal(playlist.status, 200);
      assert.match(playlist.headers.get('content-type') ?? '', /mpegurl/i);
    } finally {
      await publisher.stop();
    }
    await page.getByTestId('live-status').filter({ hasText: 'Offline' }).waitFor({ timeout: 30_000 });
    await page.close();
  });

  it('keeps the event store and the read models in agreement', async () => {
    const events = await store.readAll({ limit: 10_000 });
    const types = events.map((e) => e.type);
    for (const t of ['UsernameClaimed', 'AccountRegistered', 'StreamKeyIssued', 'PublishRejected', 'BroadcastStarted', 'BroadcastEnded']) {
      assert.ok(types.includes(t), `store has ${t}`);
    }
    const positions = events.map((e) => e.globalPosition);
    positions.forEach((p, i) => assert.equal(p, BigInt(i + 1), 'global positions are gap-free'));

    const started = events.filter((e) => e.type === 'BroadcastStarted');
    assert.equal(started.length, 1);
    const broadcastId = (started[0]?.data as { broadcastId: string }).broadcastId;
    const channel = await eventually('the read model to show the channel offline', async () => {
      const c = (await (await fetch(`${env.platform.urls.queryApi}/channels/${username}`)).json()) as ChannelView;
      return c.live ? null : c;
    });
    assert.equal(channel.broadcast, null);
    const broadcast = (await (await fetch(`${env.platform.urls.queryApi}/broadcasts/${broadcastId}`)).json()) as {
      id: string;
      endedAt: string | null;
      media: { videoCodec: string; audioCodec: string; width: number; height: number };
    };
    assert.equal(broadcast.id, broadcastId);
    assert.ok(broadcast.endedAt, 'the broadcast read model is ended');
    assert.equal(broadcast.media.width, 640);
    assert.equal(broadcast.media.height, 360);
    assert.match(broadcast.media.videoCodec, /h264|avc/i);
    assert.match(broadcast.media.audioCodec, /aac/i);
    const live = (await (await fetch(`${env.platform.urls.queryApi}/channels/live`)).json()) as { channels: ChannelView[] };
    assert.ok(!live.channels.some((c) => c.username === username));
  });
});
