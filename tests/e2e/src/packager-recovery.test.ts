/**
 * Robustness of live video, seen from a viewer (issue 10 item 9), against the whole platform with ffmpeg publishing
 * 640x360 30 fps with a 1-s GOP and Chromium playing the channel page in low-latency mode:
 * - the ingest's packager ffmpeg killed with SIGKILL mid-broadcast is restarted: the media playlist carries an
 *   EXT-X-DISCONTINUITY and a new EXT-X-MAP, media sequence numbers keep growing, and the open page keeps playing with
 *   the same hls.js instance and no fatal hls.js error (no reload, no player rebuild);
 * - the encoder dropping its connection and reconnecting within the grace period (INGEST_PUBLISH_GRACE_MS) continues
 *   the same broadcast (one BroadcastStarted, no BroadcastEnded, the same broadcast id on the query side), and the
 *   page keeps playing without a fatal hls.js error;
 * - the live media is bounded: MEDIA_DIR holds no media file (the live store is in memory, apps/ingest/src/live/store.ts)
 *   and the media playlist lists at most the store's window (6 closed segments plus the open one's parts).
 * The packager's own restart logic (backoff, sink calls) is covered in apps/ingest/src/live/packager.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createEventStore, type EventStore } from '@eventcast/event-store';
import { loadConfig } from '@eventcast/platform';
import { registerAccount, type TestAccount } from './accounts.js';
import { eventually, launchChromium, openOfflineChannelPage, publishTestStream, startE2ePlatform, type E2eEnv, type Publisher } from './harness.js';

/** Closed segments the live store keeps per rendition (LiveMediaStore `windowSegments` default, store.ts). */
const STORE_WINDOW_SEGMENTS = 6;
/** Grace period for an encoder's reconnect in this run (ms): long enough for a reconnect on a loaded machine. */
const GRACE_MS = 8000;

/** What the test reads of the page: the player's video and the hls.js instance watched since {@link watchHls}. */
interface ViewerProbe {
  currentTime: number;
  /** `window.__hls` is still the instance {@link watchHls} attached to (the Player did not rebuild hls.js). */
  sameInstance: boolean;
  lowLatencyMode: boolean;
  /** hls.js ERROR events seen since {@link watchHls}. */
  errors: { type: string; details: string; fatal: boolean; reason?: string }[];
}

/** The part of hls.js the page probe uses (hls.js 1.x `Hls`: `on`, `config`). */
interface PageHls {
  config: { lowLatencyMode: boolean };
  on(event: string, cb: (evt: string, data: { type: string; details: string; fatal: boolean; reason?: string; error?: Error }) => void): void;
}

interface RecoveryWindow {
  __hls?: PageHls | null;
  __recovery?: { instance: PageHls; errors: { type: string; details: string; fatal: boolean; reason?: string }[] };
}

/**
 * Attaches an ERROR listener (`hlsError`, hls.js `Events.ERROR`) to the page's current hls.js instance and remembers
 * the instance, so a later {@link probeViewer} tells whether a fatal error happened or the Player rebuilt hls.js.
 */
async function watchHls(page: Page): Promise<void> {
  const ok = await page.evaluate(() => {
    const w = window as unknown as RecoveryWindow;
    const hls = w.__hls;
    if (!hls) return false;
    const errors: { type: string; details: string; fatal: boolean; reason?: string }[] = [];
    hls.on('hlsError', (_evt, data) => errors.push({ type: data.type, details: data.details, fatal: data.fatal, reason: data.reason ?? data.error?.message ?? '' }));
    w.__recovery = { instance: hls, errors };
    return true;
  });
  assert.ok(ok, 'the page has an hls.js instance to watch');
}

async function probeViewer(page: Page): Promise<ViewerProbe> {
  return page.evaluate(() => {
    const w = window as unknown as RecoveryWindow;
    const video = document.querySelector<HTMLVideoElement>('[data-testid="player"]');
    return {
      currentTime: video?.currentTime ?? 0,
      sameInstance: !!w.__recovery && w.__hls === w.__recovery.instance,
      lowLatencyMode: w.__hls?.config.lowLatencyMode ?? false,
      errors: [...(w.__recovery?.errors ?? [])],
    };
  });
}

/** Waits until the video's currentTime is `seconds` past `from`, then asserts no fatal error and no hls.js rebuild. */
async function keepsPlaying(page: Page, seconds: number, what: string): Promise<ViewerProbe> {
  const from = (await probeViewer(page)).currentTime;
  const p = await eventually(`${what}: ${seconds} s more of playback after currentTime ${from.toFixed(2)}`, async () => {
    const now = await probeViewer(page);
    return now.currentTime >= from + seconds ? now : null;
  }, 40_000);
  const fatal = p.errors.filter((e) => e.fatal);
  assert.deepEqual(fatal, [], `${what}: no fatal hls.js error`);
  // A discontinuity hls.js cannot merge into the playlist it holds is a levelParsingError, fatal or not.
  const parsing = p.errors.filter((e) => e.details === 'levelParsingError');
  assert.deepEqual(parsing, [], `${what}: no playlist parsing error in hls.js`);
  assert.ok(p.sameInstance, `${what}: the page kept its hls.js instance (the Player did not rebuild it after an error)`);
  return p;
}

/** A parsed LL-HLS media playlist: what these checks read of it. */
interface MediaPlaylistView {
  text: string;
  mediaSequence: number;
  /** Whole segments listed (EXTINF lines). */
  segments: number;
  discontinuities: number;
  /** EXT-X-MAP URIs in order. */
  maps: string[];
  /** Highest media sequence number listed, counting the open segment when it has parts. */
  lastMsn: number;
}

function readMediaPlaylist(text: string): MediaPlaylistView {
  const lines = text.split('\n').map((l) => l.trim());
  // Absent EXT-X-MEDIA-SEQUENCE means 0 (RFC 8216bis §4.4.3.2).
  const mediaSequence = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m.exec(text)?.[1] ?? 0);
  const segments = lines.filter((l) => l.startsWith('#EXTINF:')).length;
  const discontinuities = lines.filter((l) => l === '#EXT-X-DISCONTINUITY').length;
  const maps = lines.filter((l) => l.startsWith('#EXT-X-MAP:')).map((l) => /URI="([^"]+)"/.exec(l)?.[1] ?? '');
  // Parts after the last EXTINF belong to the open segment (msn = media sequence + whole segments).
  const lastExtinf = lines.map((l) => l.startsWith('#EXTINF:')).lastIndexOf(true);
  const openHasParts = lines.slice(lastExtinf + 1).some((l) => l.startsWith('#EXT-X-PART:'));
  return { text, mediaSequence, segments, discontinuities, maps, lastMsn: mediaSequence + segments - (openHasParts ? 0 : 1) };
}

/** Process ids of the packager ffmpeg(s) among `parentPid`'s children: `-f mp4` output from an `rtmp://` input. */
function packagerPids(parentPid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces or parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const input = argv[argv.indexOf('-i') + 1] ?? '';
      const mp4Out = argv.some((a, i) => a === '-f' && argv[i + 1] === 'mp4');
      if (/ffmpeg/.test(argv[0] ?? '') && input.startsWith('rtmp://') && mp4Out) pids.push(Number(name));
    } catch {
      // The process exited while we read it.
    }
  }
  return pids;
}

/** Every file under `dir` (relative paths); [] when `dir` does not exist. */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

describe('packager and encoder recovery as a viewer sees it (issue 10 item 9)', () => {
  let env: E2eEnv;
  let browser: Browser;
  let store: EventStore;
  let owner: TestAccount;
  let streamKey = '';
  let publisher: Publisher | null = null;
  let viewer: Page;
  let mediaPlaylistUrl = '';
  let liveSince = 0;
  const run = Date.now().toString(36).slice(-5);

  async function mediaPlaylist(): Promise<MediaPlaylistView> {
    const res = await fetch(mediaPlaylistUrl);
    assert.equal(res.status, 200, `GET ${mediaPlaylistUrl}`);
    return readMediaPlaylist(await res.text());
  }

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'warn', env: { INGEST_PUBLISH_GRACE_MS: String(GRACE_MS) } });
    browser = await launchChromium();
    store = await createEventStore(loadConfig({ DATABASE_URL: env.db.url }));
    owner = await registerAccount(env.platform.urls.commandApi, `rec${run}`);
    const key = await fetch(`${env.platform.urls.commandApi}/me/stream-key`, { headers: { authorization: `Bearer ${owner.token}` } });
    ({ streamKey } = (await key.json()) as { streamKey: string });
    viewer = await openOfflineChannelPage(browser, env, owner.username);
    publisher = publishTestStream(`${env.platform.urls.rtmp}/${streamKey}`);
    await viewer.getByTestId('live-status').filter({ hasText: 'LIVE' }).waitFor({ timeout: 30_000 });
    liveSince = Date.now();

    // The first media playlist the multivariant playlist lists (`source` with the default ladder).
    const channel = (await (await fetch(`${env.platform.urls.queryApi}/channels/${owner.username}`)).json()) as { playbackUrl: string | null };
    assert.ok(channel.playbackUrl, 'the live channel has a playback URL');
    const multivariantUrl = channel.playbackUrl;
    const multivariant = await eventually('the multivariant playlist', async () => {
      const res = await fetch(multivariantUrl);
      return res.status === 200 ? res.text() : null;
    }, 30_000);
    const first = multivariant.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
    assert.ok(first, `a media playlist in\n${multivariant}`);
    mediaPlaylistUrl = new URL(first, multivariantUrl).href;

    await eventually('hls.js playing in low-latency mode', async () => {
      const p = await viewer.evaluate(() => {
        const hls = (window as unknown as RecoveryWindow).__hls;
        const video = document.querySelector<HTMLVideoElement>('[data-testid="player"]');
        return { low: hls?.config.lowLatencyMode ?? false, t: video?.currentTime ?? 0 };
      });
      return p.low && p.t > 1;
    }, 40_000);
    await watchHls(viewer);
  });

  after(async () => {
    await publisher?.stop();
    await store?.close();
    await browser?.close();
    await env?.dispose();
  });

  it('restarts the packager killed with SIGKILL; the viewer keeps playing through a discontinuity', async (t) => {
    const ingestPid = env.platform.pids['ingest'];
    assert.ok(ingestPid, 'the ingest app runs');
    const [killed, ...others] = await eventually('the packager ffmpeg among the ingest’s children', () => {
      const pids = packagerPids(ingestPid);
      return Promise.resolve(pids.length > 0 ? pids : null);
    });
    assert.equal(others.length, 0, 'one packager ffmpeg per channel');
    assert.ok(killed !== undefined && killed !== publisher?.child.pid, 'the packager, not the publisher');
    const before = await mediaPlaylist();
    assert.equal(before.maps.length, 1, `one EXT-X-MAP before the kill:\n${before.text}`);
    const firstMap = before.maps[0];

    process.kill(killed, 'SIGKILL');

    const restarted = await eventually('a new packager ffmpeg', () => {
      const pids = packagerPids(ingestPid).filter((p) => p !== killed);
      return Promise.resolve(pids.length > 0 ? pids[0] : null);
    }, 20_000);
    assert.notEqual(restarted, killed);
    let last = before;
    const after = await eventually('EXT-X-DISCONTINUITY and a new EXT-X-MAP in the media playlist', async () => {
      const p = (last = await mediaPlaylist());
      return p.discontinuities >= 1 && p.maps.some((m) => m !== firstMap) && p.lastMsn > before.lastMsn ? p : null;
    }, 20_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; before the kill:\n${before.text}\nlast seen:\n${last.text}`);
    });
    const newMap = after.maps.at(-1) ?? '';
    assert.ok(/-i[1-9]\d*\.mp4$/.test(newMap), `the new init is a later generation: ${newMap}`);
    // The new init is served.
    assert.equal((await fetch(new URL(newMap, mediaPlaylistUrl))).status, 200);

    const seen = await keepsPlaying(viewer, 5, 'after the packager was killed');
    t.diagnostic(`hls.js errors after the kill (none fatal): ${JSON.stringify(seen.errors.map((e) => e.details))}`);
    const later = await mediaPlaylist();
    assert.ok(later.lastMsn > after.lastMsn, `media sequence numbers keep growing (${after.lastMsn} → ${later.lastMsn})`);
    assert.ok(later.mediaSequence >= before.mediaSequence, 'EXT-X-MEDIA-SEQUENCE never goes back');
  });

  it('continues the same broadcast when the encoder reconnects within the grace period', async (t) => {
    const channelBefore = (await (await fetch(`${env.platform.urls.queryApi}/channels/${owner.username}`)).json()) as { broadcast: { id: string } | null };
    const broadcastId = channelBefore.broadcast?.id;
    assert.ok(broadcastId, 'the channel is live with a broadcast');
    const msnBefore = (await mediaPlaylist()).lastMsn;

    // The encoder's connection drops (no RTMP goodbye), then it publishes again with the same key.
    const dropped = publisher!;
    dropped.child.kill('SIGKILL');
    await dropped.exited;
    await new Promise((r) => setTimeout(r, 1500));
    publisher = publishTestStream(`${env.platform.urls.rtmp}/${streamKey}`);

    await eventually('media from the reconnected encoder in the media playlist', async () => (await mediaPlaylist()).lastMsn > msnBefore + 2, 30_000);
    const seen = await keepsPlaying(viewer, 5, 'after the encoder reconnected');
    t.diagnostic(`hls.js errors since the first kill (none fatal): ${JSON.stringify(seen.errors.map((e) => e.details))}`);
    assert.equal(await viewer.getByTestId('live-status').filter({ hasText: 'LIVE' }).count(), 1, 'the page still shows LIVE');

    const channelAfter = (await (await fetch(`${env.platform.urls.queryApi}/channels/${owner.username}`)).json()) as { live: boolean; broadcast: { id: string } | null };
    assert.equal(channelAfter.live, true);
    assert.equal(channelAfter.broadcast?.id, broadcastId, 'the same broadcast continues');
    const events = await store.readAll({ eventTypes: ['BroadcastStarted', 'BroadcastEnded'] });
    const mine = events.filter((e) => (e.data as { broadcastId?: string }).broadcastId === broadcastId);
    assert.deepEqual(mine.map((e) => e.type), ['BroadcastStarted'], 'one BroadcastStarted and no BroadcastEnded for the broadcast');
    assert.equal(events.filter((e) => e.type === 'BroadcastStarted').length, 1, 'no second broadcast was started');
  });

  it('keeps live media bounded: nothing on disk, a playlist window of at most the store’s segments', async () => {
    // At least 20 s of live (two recoveries included): far more media than the window holds.
    const wait = liveSince + 20_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const files = filesUnder(env.mediaDir).filter((f) => /\.(m4s|mp4|ts|m3u8|aac|fmp4)$/i.test(f));
    assert.deepEqual(files, [], `no live media file in MEDIA_DIR ${env.mediaDir}`);
    const p = await mediaPlaylist();
    assert.ok(p.segments <= STORE_WINDOW_SEGMENTS, `at most ${STORE_WINDOW_SEGMENTS} whole segments listed, got ${p.segments}:\n${p.text}`);
    assert.ok(p.mediaSequence > 0, `old segments left the window (EXT-X-MEDIA-SEQUENCE ${p.mediaSequence})`);
    // Segments that left the window are gone from the origin too.
    const oldest = p.text.split('\n').map((l) => l.trim()).find((l) => /\.m4s$/.test(l) && !l.startsWith('#'));
    assert.ok(oldest, 'a segment URI in the playlist');
    const gone = oldest.replace(/-(\d+)\.m4s$/, (_m, msn: string) => `-${Number(msn) - 1}.m4s`);
    assert.notEqual(gone, oldest);
    assert.equal((await fetch(new URL(gone, mediaPlaylistUrl))).status, 404, `${gone} left the window and is not served`);
  });
});
