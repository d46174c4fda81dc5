/**
 * The channel's latency setting and the player's quality menu (issue 10 items 2 and 3), in Chromium against the whole
 * platform with ffmpeg publishing 720p30 H.264/AAC with a 1-s GOP:
 * - the owner picks "Smooth" on the dashboard; a viewer's page that is already playing re-creates hls.js without
 *   `lowLatencyMode` and sits 3 target durations behind the live edge, then follows the switch back to low latency
 *   (made through the API) to a shorter target; the page shows "N s behind live";
 * - the quality menu lists Auto plus every hls.js level ("720p", "480p", …), and is absent for a single rendition;
 * - with Chromium's network throttled (CDP `Network.emulateNetworkConditions`) hls.js switches to a lower level.
 *   This one needs a multi-rendition ladder from the ingest and SKIPS, saying so, when the stream has one level.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { LATENCY_MODE_PATH } from '@eventcast/contracts';
import { openPageAs, registerAccount, type TestAccount } from './accounts.js';
import { eventually, launchChromium, openOfflineChannelPage, spawnPublisher, startE2ePlatform, type E2eEnv, type Publisher } from './harness.js';

/** What the test reads of the page's hls.js instance (`window.__hls`, set by the Player). */
interface HlsProbe {
  lowLatencyMode: boolean;
  liveSyncDurationCount: number | null;
  targetLatency: number | null;
  targetDuration: number | null;
  latency: number;
  levels: { height: number; bitrate: number }[];
  currentLevel: number;
  autoLevelEnabled: boolean;
  currentTime: number;
}

/** Publishes a 1280x720 30-fps test pattern with a 1-s GOP and 48 kHz stereo AAC, as OBS does (kept cheap: ultrafast). */
function publish720p(rtmpUrl: string): Publisher {
  const args = [
    '-hide_banner', '-loglevel', 'warning', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '30', '-keyint_min', '30', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '2500k',
    '-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2',
    '-f', 'flv', rtmpUrl,
  ];
  return spawnPublisher(args);
}

/** The part of hls.js's API the probe reads (hls.js 1.7 `Hls`: config, userConfig, latency controller, levels). */
interface PageHls {
  config: { lowLatencyMode: boolean };
  userConfig: { liveSyncDurationCount?: number };
  targetLatency: number | null;
  latestLevelDetails: { targetduration: number } | null;
  latency: number;
  levels: { height: number; bitrate: number }[];
  currentLevel: number;
  autoLevelEnabled: boolean;
}

async function probe(page: Page): Promise<HlsProbe | null> {
  return page.evaluate(() => {
    const hls = (window as unknown as { __hls?: PageHls | null }).__hls;
    const video = document.querySelector<HTMLVideoElement>('[data-testid="player"]');
    if (!hls || !video) return null;
    return {
      lowLatencyMode: hls.config.lowLatencyMode,
      liveSyncDurationCount: hls.userConfig.liveSyncDurationCount ?? null,
      targetLatency: hls.targetLatency,
      targetDuration: hls.latestLevelDetails?.targetduration ?? null,
      latency: hls.latency,
      levels: hls.levels.map((l) => ({ height: l.height, bitrate: l.bitrate })),
      currentLevel: hls.currentLevel,
      autoLevelEnabled: hls.autoLevelEnabled,
      currentTime: video.currentTime,
    };
  });
}

/** Waits until the page's video plays (currentTime advances by more than a second) with hls.js in `lowLatencyMode` = `low`. */
async function playingWith(page: Page, low: boolean, what: string): Promise<HlsProbe> {
  const first = await eventually(`${what}: hls.js with lowLatencyMode ${low} and a target latency`, async () => {
    const p = await probe(page);
    return p && p.lowLatencyMode === low && p.targetLatency !== null && p.targetDuration !== null && p.currentTime > 0 ? p : null;
  }, 40_000);
  return eventually(`${what}: the video to keep playing`, async () => {
    const p = await probe(page);
    return p && p.lowLatencyMode === low && p.currentTime > first.currentTime + 1 ? p : null;
  }, 20_000);
}

describe('latency setting and quality menu (issue 10 items 2 and 3)', () => {
  let env: E2eEnv;
  let browser: Browser;
  let owner: TestAccount;
  let publisher: Publisher | null = null;
  let viewer: Page;
  const run = Date.now().toString(36).slice(-5);

  async function setModeByApi(mode: string): Promise<number> {
    const res = await fetch(`${env.platform.urls.commandApi}${LATENCY_MODE_PATH}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({ latencyMode: mode }),
    });
    return res.status;
  }

  before(async () => {
    // A two-step ladder (the 720p source and a 360p encode) so the quality menu and the variant switch have levels to
    // choose from; `auto` gives only the source on machines with fewer than 8 cores (docs/design.md "LL-HLS packager").
    env = await startE2ePlatform({ logLevel: 'warn', env: { INGEST_RENDITIONS: 'source,360p' } });
    browser = await launchChromium();
    owner = await registerAccount(env.platform.urls.commandApi, `lat${run}`);
    const key = await fetch(`${env.platform.urls.commandApi}/me/stream-key`, { headers: { authorization: `Bearer ${owner.token}` } });
    const { streamKey } = (await key.json()) as { streamKey: string };
    viewer = await openOfflineChannelPage(browser, env, owner.username);
    publisher = publish720p(`${env.platform.urls.rtmp}/${streamKey}`);
    await viewer.getByTestId('live-status').filter({ hasText: 'LIVE' }).waitFor({ timeout: 30_000 });
  });

  after(async () => {
    await publisher?.stop();
    await browser?.close();
    await env?.dispose();
  });

  it('plays in low latency by default, follows "Smooth" chosen on the dashboard while playing, and back', async () => {
    const low = await playingWith(viewer, true, 'default mode');
    assert.equal(await viewer.getByTestId('player-box').getAttribute('data-latency-mode'), 'low');
    assert.equal(low.liveSyncDurationCount, null, 'low latency leaves the distance to the playlist (PART-HOLD-BACK)');
    await viewer.getByTestId('latency').filter({ hasText: /^\d+\.\d s behind live$/ }).waitFor({ timeout: 20_000 });

    const dashboard = await openPageAs(browser, env.platform.urls.web, owner, '/dashboard');
    const lowRadio = dashboard.getByTestId('latency-mode-low');
    await eventually('the dashboard to show the current mode', async () => (await lowRadio.isEnabled()) && (await lowRadio.isChecked()));
    await dashboard.getByTestId('latency-mode-smooth').check();
    await dashboard.getByTestId('latency-setting-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 20_000 });
    assert.equal(await dashboard.getByTestId('latency-mode-smooth').isChecked(), true);
    await dashboard.close();

    // The open page got ChannelLatencyModeChanged and re-created hls.js: whole segments, 3 target durations back.
    const smooth = await playingWith(viewer, false, 'after choosing Smooth');
    assert.equal(await viewer.getByTestId('player-box').getAttribute('data-latency-mode'), 'smooth');
    assert.equal(smooth.liveSyncDurationCount, 3);
    assert.ok(smooth.targetLatency !== null && smooth.targetDuration !== null);
    assert.ok(smooth.targetLatency >= 3 * smooth.targetDuration - 1e-6, `smooth target ${smooth.targetLatency} s ≥ 3 × ${smooth.targetDuration} s`);
    const view = (await (await fetch(`${env.platform.urls.queryApi}/channels/${owner.username}`)).json()) as { latencyMode: string };
    assert.equal(view.latencyMode, 'smooth');

    // A page opened now starts in the chosen mode from the channel view.
    const fresh = await browser.newPage();
    await fresh.goto(`${env.platform.urls.web}/${owner.username}`);
    await playingWith(fresh, false, 'a page opened in smooth mode');
    await fresh.close();

    assert.equal(await setModeByApi('low'), 200);
    const back = await playingWith(viewer, true, 'after switching back to low latency');
    assert.ok(back.targetLatency !== null && smooth.targetLatency !== null && back.targetLatency < smooth.targetLatency, `low target ${back.targetLatency} s < smooth ${smooth.targetLatency} s`);
    // Coming from 3 target durations back, the player catches up to its target (the Player's catch-up: hls.js's own
    // acts only with more than 1 s buffered, so it would have stayed wherever it started).
    const caughtUp = await eventually('low latency: the player within 0.35 s of its target latency', async () => {
      const p = await probe(viewer);
      return p && p.lowLatencyMode && p.targetLatency !== null && p.latency > 0 && p.latency <= p.targetLatency + 0.35 ? p : null;
    }, 45_000);
    assert.ok(caughtUp.latency < smooth.targetLatency, `caught up to ${caughtUp.latency} s`);
    assert.equal(await setModeByApi('instant'), 400);
  });

  it('lists Auto and every hls.js level in the quality menu, and no menu for a single rendition', async () => {
    const p = await playingWith(viewer, true, 'quality menu');
    const menu = viewer.getByTestId('quality-menu');
    if (p.levels.length < 2) {
      assert.equal(await menu.count(), 0, 'no quality menu with one rendition');
      return;
    }
    await menu.waitFor({ timeout: 10_000 });
    const options = await menu.locator('option').allTextContents();
    assert.match(options[0] ?? '', /^Auto/);
    const heights = [...p.levels].reverse().map((l) => l.height);
    assert.deepEqual(options.slice(1).map((o) => Number(/^(\d+)p/.exec(o)?.[1])), heights, `menu ${JSON.stringify(options)} lists the levels highest first`);
    // Pick the lowest level, then Auto again.
    await menu.selectOption({ index: options.length - 1 });
    await eventually('hls.js to play the chosen level', async () => {
      const now = await probe(viewer);
      return now && !now.autoLevelEnabled && now.currentLevel === 0;
    }, 30_000);
    await menu.selectOption({ index: 0 });
    await eventually('Auto again', async () => (await probe(viewer))?.autoLevelEnabled === true);
  });

  it('switches hls.js to a lower level when Chromium’s network is throttled', async (t) => {
    const p = await playingWith(viewer, true, 'variant switch');
    if (p.levels.length < 2) {
      t.skip(`the stream has a single level (${p.levels.length}): no multi-rendition ladder on this ingest, so there is no lower variant to switch to`);
      return;
    }
    const top = p.levels.length - 1;
    await eventually('hls.js to climb above the lowest level on the open network', async () => ((await probe(viewer))?.currentLevel ?? 0) > 0, 40_000);
    const cdp = await viewer.context().newCDPSession(viewer);
    await cdp.send('Network.enable');
    // Enough for the lowest rendition (1.5× its bandwidth), not for the one above it.
    const lowest = p.levels[0]!.bitrate;
    const next = p.levels[1]!.bitrate;
    const bitsPerSecond = Math.min(lowest * 1.5, (lowest + next) / 2);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 40, downloadThroughput: bitsPerSecond / 8, uploadThroughput: bitsPerSecond / 8 });
    try {
      const before = (await probe(viewer))!.currentLevel;
      await eventually(`hls.js to switch below level ${before} of ${top}`, async () => {
        const now = await probe(viewer);
        return now && now.currentLevel >= 0 && now.currentLevel < before ? now : null;
      }, 60_000);
    } finally {
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
    }
  });
});
