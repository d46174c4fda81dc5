/// <reference lib="dom" />
/**
 * hls.js in Chromium plays the live media store over the uWebSockets.js origin with `lowLatencyMode`: ffmpeg encodes
 * a test pattern in real time into fragmented MP4 (0.2-s fragments, 1-s GOP), the test splits it into parts and
 * feeds the store as the packager would. Checks: playback starts and advances, hls.js loads parts (LL-HLS) with no
 * fatal error, and its latency stays under a generous sanity bound (not a timing target; bench/ holds those).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createLogger } from '@eventcast/platform';
import { Fmp4Splitter, liveFmp4 } from '../test-support/fmp4.js';
import { waitUntil } from '../test-support/harness.js';
import type { RenditionDescriptor } from './media-sink.js';
import { createLiveOrigin, type LiveOrigin } from './origin.js';
import { LiveMediaStore } from './store.js';

const require = createRequire(import.meta.url);

/** RFC 6381 `avc1.PPCCLL` from the init segment's `avcC` box (profile, constraint flags, level). */
function avc1Codec(init: Buffer): string {
  const at = init.indexOf('avcC', 0, 'latin1');
  if (at < 0) throw new Error('no avcC');
  const hex = (i: number) => (init[at + i] ?? 0).toString(16).padStart(2, '0');
  return `avc1.${hex(5)}${hex(6)}${hex(7)}`;
}

const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video><script src="/hls.js"></script><script>
window.stats = { parts: 0, fragments: 0, fatal: null, errors: [] };
const hls = new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 });
window.hls = hls;
hls.on(Hls.Events.FRAG_LOADED, (_e, d) => { if (d.part) window.stats.parts++; else window.stats.fragments++; });
hls.on(Hls.Events.ERROR, (_e, d) => { window.stats.errors.push(d.details); if (d.fatal) window.stats.fatal = d.details; });
hls.loadSource(new URLSearchParams(location.search).get('src'));
hls.attachMedia(document.getElementById('v'));
hls.on(Hls.Events.MANIFEST_PARSED, () => document.getElementById('v').play());
</script></body></html>`;

void describe('hls.js lowLatencyMode plays the live store (Chromium)', { timeout: 90_000 }, () => {
  let store: LiveMediaStore;
  let origin: LiveOrigin;
  let page: http.Server;
  let browser: Browser | null = null;
  let feed: ReturnType<typeof liveFmp4> | null = null;

  before(async () => {
    store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
    origin = await createLiveOrigin({ store, isReady: () => true, log: createLogger('ll-hls-player-test'), metricsToken: null }, '127.0.0.1', 0);
    const hlsJs = await readFile(require.resolve('hls.js/dist/hls.min.js'));
    page = http.createServer((req, res) => {
      if (req.url?.startsWith('/hls.js')) res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(hlsJs);
      else res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    });
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    feed?.stop();
    await browser?.close();
    await new Promise((r) => page.close(r));
    await origin.close();
    store.clear();
  });

  void it('plays LL-HLS parts at a low latency', async () => {
    const ch = store.open('alice');
    const r = ch.rendition('source');
    const splitter = new Fmp4Splitter(
      (init) => {
        const d: RenditionDescriptor = { name: 'source', codecs: `${avc1Codec(init)},mp4a.40.2`, width: 320, height: 180, frameRate: 25, bandwidth: 500_000, transcoded: false };
        r.init(init, d);
      },
      (p) => r.part(p),
    );
    feed = liveFmp4(splitter, { seconds: 40, fps: 25, gop: 25, fragSeconds: 0.2 });
    await waitUntil('two segments', () => (r.segments.length >= 2 ? true : undefined), 20_000);

    browser = await chromium.launch({
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
      headless: true,
    });
    const tab = await browser.newPage();
    const src = `http://127.0.0.1:${origin.port}/hls/alice/index.m3u8`;
    await tab.goto(`http://127.0.0.1:${(page.address() as AddressInfo).port}/?src=${encodeURIComponent(src)}`);
    await tab.waitForFunction(() => (document.getElementById('v') as HTMLVideoElement).currentTime > 3, undefined, { timeout: 30_000 });
    const samples: { latency: number; parts: number; fatal: string | null; lowLatency: boolean; t: number }[] = [];
    for (let i = 0; i < 10; i++) {
      await new Promise((res) => setTimeout(res, 500));
      samples.push(
        await tab.evaluate(() => {
          const w = window as unknown as { hls: { latency: number; lowLatencyMode: boolean }; stats: { parts: number; fatal: string | null } };
          return { latency: w.hls.latency, parts: w.stats.parts, fatal: w.stats.fatal, lowLatency: w.hls.lowLatencyMode, t: (document.getElementById('v') as HTMLVideoElement).currentTime };
        }),
      );
    }
    const last = samples.at(-1);
    assert.ok(last);
    assert.equal(last.fatal, null);
    assert.equal(last.lowLatency, true);
    assert.ok(last.parts > 10, `hls.js loaded ${last.parts} parts`);
    assert.ok(last.t > (samples[0]?.t ?? 0) + 3, 'playback advances');
    const latencies = samples.map((s) => s.latency).sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)] ?? NaN;
    // A sanity bound: plain HLS of 1-s segments sits at ≥ 3 s behind the edge; LL-HLS with PART-HOLD-BACK 0.6 s well under it.
    assert.ok(median < 3, `hls.js latency ${median} s`);
    process.stderr.write(`hls.js latency median ${median.toFixed(2)} s, parts loaded ${last.parts}\n`);
  });
});
