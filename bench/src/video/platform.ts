/**
 * The platform side of the video benchmarks: a channel on a platform started by the e2e harness, its latency mode
 * (through the command API when the platform has the setting, else a client-side override), and what its HLS
 * origin serves.
 */
import { HLS_MULTIVARIANT_PLAYLIST, hlsChannelPath, type LatencyMode } from '@eventcast/contracts';
import type { E2eEnv } from '@eventcast/e2e/harness';
import { sleep } from '../fanout/proc.js';
import { until } from './common.js';

/** A registered channel: owner token, stream key (secret: never printed), where to publish and watch. */
export interface BenchChannel {
  username: string;
  token: string;
  rtmpUrl: string;
  pageUrl: string;
  playlistUrl: string;
}

async function json<T>(r: Response, what: string): Promise<T> {
  if (!r.ok) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Registers a user (= a channel) and fetches its stream key. */
export async function createChannel(env: E2eEnv, prefix: string): Promise<BenchChannel> {
  const urls = env.platform.urls;
  const username = `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.slice(0, 24);
  const { token } = await json<{ token: string }>(
    await fetch(`${urls.commandApi}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'benchmark-password' }) }),
    'register',
  );
  const { streamKey } = await json<{ streamKey: string }>(await fetch(`${urls.commandApi}/me/stream-key`, { headers: { authorization: `Bearer ${token}` } }), 'stream key');
  return {
    username,
    token,
    rtmpUrl: `${urls.rtmp}/${streamKey}`,
    pageUrl: `${urls.web}/${username}`,
    playlistUrl: `${urls.hls}${hlsChannelPath(username)}/${HLS_MULTIVARIANT_PLAYLIST}`,
  };
}

/** The channel as the query API shows it (only the fields the benchmarks read). */
async function channelView(env: E2eEnv, ch: BenchChannel): Promise<{ live?: boolean; latencyMode?: string }> {
  return json(await fetch(`${env.platform.urls.queryApi}/channels/${ch.username}`), 'channel');
}

/**
 * Sets the channel's latency mode with `PUT /me/channel/latency-mode` (issue 10 item 2) and waits (≤ 10 s) until the
 * query API shows it. @returns `api` when the platform took it, `client` when the platform has no such setting
 * (404/405, or the channel response has no `latencyMode`): the caller then overrides hls.js on the page.
 * @throws {Error} on any other refusal (a 4xx with a reason is a bug in this benchmark or the platform).
 */
export async function setLatencyMode(env: E2eEnv, ch: BenchChannel, mode: LatencyMode): Promise<'api' | 'client'> {
  const r = await fetch(`${env.platform.urls.commandApi}/me/channel/latency-mode`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ch.token}` },
    body: JSON.stringify({ latencyMode: mode }),
  });
  if (r.status === 404 || r.status === 405) return 'client';
  if (!r.ok) throw new Error(`setting the latency mode: HTTP ${r.status} ${await r.text()}`);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    // A new channel reaches the query side's read model a moment after its registration: 404 until then.
    const r = await fetch(`${env.platform.urls.queryApi}/channels/${ch.username}`);
    if (r.status === 404) {
      await sleep(100);
      continue;
    }
    const v = await json<{ latencyMode?: string }>(r, 'channel');
    if (v.latencyMode === undefined) return 'client';
    if (v.latencyMode === mode) return 'api';
    await sleep(100);
  }
  throw new Error(`the query API did not show latencyMode=${mode} within 10 s`);
}

/** Waits until the channel is offline and its playlist is gone (the previous broadcast's tail), ≤ 90 s. */
export async function waitOffline(env: E2eEnv, ch: BenchChannel): Promise<void> {
  await until('the channel to go offline', async () => (await channelView(env, ch)).live === false, 60_000, 250);
  await until('the previous playlist to go away', async () => (await fetch(ch.playlistUrl)).status === 404, 90_000, 250);
}

/** What an HLS URL serves: multivariant or media playlist, variants, LL-HLS parts, segment container. */
export interface PlaylistInfo {
  kind: 'multivariant' | 'media';
  variants: number;
  /** Resolutions of the variants (`RESOLUTION=`), in playlist order. */
  resolutions: string[];
  /** The (first) media playlist has `EXT-X-PART` / `EXT-X-PART-INF`. */
  parts: boolean;
  partTargetSeconds: number | null;
  targetDurationSeconds: number | null;
  canBlockReload: boolean;
  /** `fmp4` when the media playlist has `EXT-X-MAP`, else `mpegts`. */
  container: 'fmp4' | 'mpegts';
}

/** Fetches `url` (and its first variant when multivariant) and describes it (probe only; players do the real parsing). */
export async function describeHls(url: string): Promise<PlaylistInfo> {
  const text = await (await fetch(url)).text();
  const lines = text.split('\n').map((l) => l.trim());
  const variants: string[] = [];
  const resolutions: string[] = [];
  lines.forEach((l, i) => {
    if (l.startsWith('#EXT-X-STREAM-INF')) {
      const res = /RESOLUTION=(\d+x\d+)/.exec(l)?.[1];
      if (res) resolutions.push(res);
      const uri = lines.slice(i + 1).find((x) => x && !x.startsWith('#'));
      if (uri) variants.push(uri);
    }
  });
  const media = variants[0] ? await (await fetch(new URL(variants[0], url))).text() : text;
  const num = (re: RegExp) => {
    const m = re.exec(media)?.[1];
    return m === undefined ? null : Number(m);
  };
  return {
    kind: variants.length ? 'multivariant' : 'media',
    variants: variants.length || 1,
    resolutions,
    parts: /#EXT-X-PART[:-]/.test(media),
    partTargetSeconds: num(/#EXT-X-PART-INF:PART-TARGET=([\d.]+)/),
    targetDurationSeconds: num(/#EXT-X-TARGETDURATION:(\d+)/),
    canBlockReload: /CAN-BLOCK-RELOAD=YES/.test(media),
    container: /#EXT-X-MAP/.test(media) ? 'fmp4' : 'mpegts',
  };
}
