/**
 * The live media store, its LL-HLS playlists and the uWebSockets.js origin over real HTTP, fed with real fragmented
 * MP4 made by ffmpeg (320x180 25 fps, 1-s GOP, 0.2-s fragments): playlist rules of RFC 8216bis, blocking reload,
 * preload-hinted parts, aborted clients, discontinuities, the end of a broadcast, caching headers and hostile requests.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import HLS from 'hls-parser';
import { createLogger } from '@eventcast/platform';
import { makeFmp4, splitFmp4, type SplitFmp4 } from '../test-support/fmp4.js';
import { rawRequest, waitUntil } from '../test-support/harness.js';
import { checkMediaPlaylist } from '../test-support/ll-hls-rules.js';
import type { RenditionDescriptor } from './media-sink.js';
import { advancePartLimit, createLiveOrigin, parseOriginPath, parseReloadDirectives, partAdvanceExceeded, type LiveOrigin } from './origin.js';
import { LiveMediaStore, type ChannelState } from './store.js';

const SOURCE: RenditionDescriptor = { name: 'source', codecs: 'avc1.42c00d,mp4a.40.2', width: 320, height: 180, frameRate: 25, bandwidth: 400_000, transcoded: false };
const LOW: RenditionDescriptor = { name: 'low', codecs: 'avc1.42c00d,mp4a.40.2', width: 160, height: 90, frameRate: 25, bandwidth: 100_000, transcoded: true };

/** A GET that can be aborted; resolves with status and body. */
function get(port: number, p: string, localAddress?: string): { done: Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>; abort: () => void; settled: () => boolean } {
  let settled = false;
  const req = http.request({ host: '127.0.0.1', port, path: p, agent: false, ...(localAddress ? { localAddress } : {}) });
  const done = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', (e) => {
      settled = true;
      reject(e);
    });
  });
  req.end();
  return { done, abort: () => req.destroy(), settled: () => settled };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

void describe('live media store + LL-HLS origin', () => {
  let dir: string;
  let media: SplitFmp4;
  let store: LiveMediaStore;
  let origin: LiveOrigin;
  let ready = false;
  let port: number;
  let ch: ChannelState;
  let fed = 0;
  let clockShiftMs = 0;
  const feed = (n: number) => {
    for (let i = 0; i < n; i++) {
      const q = media.parts[fed % media.parts.length];
      if (!q) throw new Error('no parts');
      const p = { ...q, programDateTimeMs: q.programDateTimeMs + clockShiftMs + Math.floor(fed / media.parts.length) * 10_000 };
      ch.rendition('source').part(p);
      ch.rendition('low').part(p);
      fed++;
    }
  };
  const playlist = async (p: string) => {
    const r = await rawRequest(port, p);
    assert.equal(r.status, 200, `${p}: ${r.body.toString()}`);
    const checked = checkMediaPlaylist(r.body.toString());
    assert.deepEqual(checked.violations, [], r.body.toString());
    return { ...checked, res: r, text: r.body.toString() };
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ingest-origin-'));
    media = splitFmp4(await makeFmp4(path.join(dir, 'clip.mp4'), { seconds: 6, fps: 25, gop: 25, fragSeconds: 0.2 }), Date.UTC(2026, 11, 7, 12));
    // The mp4 muxer stretches the very first sample (edit list start); a live packager's parts begin mid-stream.
    media.parts = media.parts.slice(5);
    // The layout these tests assert has no start-up segment; "start-up segment" below covers it.
    store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, targetDurationSeconds: 1, windowSegments: 4, partSegments: 2, startupSegmentSeconds: Infinity });
    origin = await createLiveOrigin(
      { store, isReady: () => ready, log: createLogger('origin-test'), metricsToken: null, thumbnails: { thumbnail: (u) => (u === 'alice' ? { jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]), at: 0 } : null) } },
      '127.0.0.1',
      0,
    );
    port = origin.port;
    ch = store.open('alice');
  });
  after(async () => {
    await origin.close();
    store.clear();
    await rm(dir, { recursive: true, force: true });
  });

  void it('splits the ffmpeg clip into 0.2-s parts with a keyframe every fifth', () => {
    assert.ok(media.parts.length >= 25, `${media.parts.length} parts`);
    for (const [i, p] of media.parts.entries()) {
      if (i < media.parts.length - 1) assert.ok(Math.abs(p.durationSeconds - 0.2) < 1e-6, `part ${i}: ${p.durationSeconds}`);
      assert.equal(p.independent, i % 5 === 0, `part ${i}`);
    }
  });

  void it('404s before media, then serves playlists that parse and satisfy the LL-HLS rules', async () => {
    assert.equal((await rawRequest(port, '/hls/alice/index.m3u8')).status, 404);
    ch.rendition('source').init(media.init, SOURCE);
    ch.rendition('low').init(media.init, LOW);
    assert.equal((await rawRequest(port, '/hls/alice/source.m3u8')).status, 404);
    feed(12);
    const { facts, res, text } = await playlist('/hls/alice/source.m3u8');
    assert.equal(res.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.match(text, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=3,PART-HOLD-BACK=0\.6/);
    assert.ok(text.includes(`#EXT-X-PROGRAM-DATE-TIME:${new Date(media.parts[0]?.programDateTimeMs ?? 0).toISOString()}`));
    // 12 parts: two complete 1-s segments (cut at the keyframes of parts 5 and 10) and two open parts.
    assert.deepEqual(facts.segments.map((s) => [s.msn, s.duration]), [[0, 1], [1, 1]]);
    assert.equal(facts.openParts.length, 2);
    // INDEPENDENT=YES exactly on parts that start with a keyframe; every segment starts with one.
    const listed = [...facts.segments.flatMap((s) => s.parts), ...facts.openParts];
    const numbers = listed.map((p) => Number(/-p(\d+)\.m4s$/.exec(p.uri)?.[1]));
    for (const [i, p] of listed.entries()) assert.equal(p.independent, media.parts[numbers[i] ?? -1]?.independent, p.uri);
    for (const s of facts.segments) assert.equal(s.parts[0]?.independent, true);
    assert.equal(facts.preloadHint, `source-${ch.epoch}-p12.m4s`);
    assert.deepEqual(facts.renditionReports, [{ uri: 'low.m3u8', lastMsn: 2, lastPart: 1 }]);
    // Players that ignore parts: hls-parser's view has the same segments.
    const parsed = HLS.parse(text) as InstanceType<typeof HLS.types.MediaPlaylist>;
    assert.equal(parsed.segments.filter((s) => s.uri).length, 2);
  });

  void it('serves the multivariant playlist highest bandwidth first with measured BANDWIDTH', async () => {
    const r = await rawRequest(port, '/hls/alice/index.m3u8');
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'public, max-age=2');
    const mv = HLS.parse(r.body.toString()) as InstanceType<typeof HLS.types.MasterPlaylist>;
    assert.ok(mv.isMasterPlaylist);
    assert.match(r.body.toString(), /#EXT-X-INDEPENDENT-SEGMENTS/);
    assert.equal(mv.variants.length, 2);
    const seg = store.channel('alice')?.renditions.get('source')?.segments[0];
    assert.ok(seg);
    const measured = Math.ceil((seg.byteLength * 8) / seg.durationSeconds);
    for (const v of mv.variants) {
      assert.ok(v.bandwidth >= measured, `${v.bandwidth} ≥ ${measured}`);
      assert.ok(v.averageBandwidth !== undefined && v.averageBandwidth <= v.bandwidth);
      assert.equal(v.codecs, SOURCE.codecs);
      assert.equal(v.frameRate, 25);
    }
    assert.ok((mv.variants[0]?.bandwidth ?? 0) >= (mv.variants[1]?.bandwidth ?? 0));
    assert.deepEqual(mv.variants.map((v) => v.resolution?.width).sort(), [160, 320]);
  });

  void it('serves parts, segments and the init segment from memory with immutable caching', async () => {
    const r = store.channel('alice')?.renditions.get('source');
    assert.ok(r);
    const init = await rawRequest(port, `/hls/alice/${r.initUri(0)}`);
    assert.equal(init.status, 200);
    assert.equal(init.headers['content-type'], 'video/mp4');
    assert.match(String(init.headers['cache-control']), /^public, max-age=\d+, immutable$/);
    assert.ok(init.body.equals(media.init));
    const seg = await rawRequest(port, `/hls/alice/${r.segmentUri(1)}`);
    assert.ok(seg.body.equals(Buffer.concat(media.parts.slice(5, 10).map((p) => p.data))));
    const part = await rawRequest(port, `/hls/alice/${r.partUri(11)}`);
    assert.ok(part.body.equals(media.parts[11]?.data ?? Buffer.alloc(0)));
    const head = await rawRequest(port, `/hls/alice/${r.partUri(11)}`, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(media.parts[11]?.data.length));
    assert.equal(head.body.length, 0);
    // A far-future part, another epoch, an unknown segment: 404 at once.
    assert.equal((await rawRequest(port, `/hls/alice/${r.partUri(40)}`)).status, 404);
    assert.equal((await rawRequest(port, `/hls/alice/source-zz-p11.m4s`)).status, 404);
    assert.equal((await rawRequest(port, `/hls/alice/${r.segmentUri(9)}`)).status, 404);
    const thumb = await rawRequest(port, '/hls/alice/thumbnail.jpg');
    assert.equal(thumb.headers['content-type'], 'image/jpeg');
    assert.equal(thumb.headers['cache-control'], 'public, max-age=10');
  });

  void it('holds a blocking reload until the part exists, then answers it with that part listed', async () => {
    // Last part is (msn 2, index 1); ask for index 2.
    const held = get(port, '/hls/alice/source.m3u8?_HLS_msn=2&_HLS_part=2');
    const second = get(port, '/hls/alice/low.m3u8?_HLS_msn=2&_HLS_part=2');
    await waitUntil('both held', () => (origin.heldRequests() === 2 ? true : undefined), 3000);
    await tick(200);
    assert.equal(held.settled(), false, 'answered before the part existed');
    feed(1);
    const [a, b] = await Promise.all([held.done, second.done]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(a.headers['cache-control'], 'public, max-age=1');
    const { facts, violations } = checkMediaPlaylist(a.body.toString());
    assert.deepEqual(violations, []);
    assert.equal(facts.openParts.length, 3);
    assert.equal(origin.heldRequests(), 0);
    // An already satisfied request is answered at once.
    assert.equal((await rawRequest(port, '/hls/alice/source.m3u8?_HLS_msn=1')).status, 200);
  });

  void it('holds the preload-hinted part until it arrives', async () => {
    const r = store.channel('alice')?.renditions.get('source');
    assert.ok(r);
    const n = r.nextPartN;
    const held = get(port, `/hls/alice/${r.partUri(n)}`);
    await waitUntil('held', () => (origin.heldRequests() === 1 ? true : undefined), 3000);
    feed(1);
    const res = await held.done;
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(media.parts[n % media.parts.length]?.data ?? Buffer.alloc(0)));
    // The part after the hinted one is not waited for.
    assert.equal((await rawRequest(port, `/hls/alice/${r.partUri(n + 2)}`)).status, 404);
  });

  void it('refuses reloads too far ahead and malformed directives with 400 and a reason', async () => {
    const last = store.channel('alice')?.renditions.get('source')?.lastCompleteMsn() ?? 0;
    const far = await rawRequest(port, `/hls/alice/source.m3u8?_HLS_msn=${last + 3}`);
    assert.equal(far.status, 400);
    assert.match(far.body.toString(), /more than two segments/);
    for (const q of ['_HLS_msn=-1', '_HLS_msn=abc', '_HLS_msn=1&_HLS_msn=2', '_HLS_part=1', '_HLS_msn=1&_HLS_part=1e3', '_HLS_foo=1', '_HLS_msn=99999999999999999999', '_HLS_skip=NO', '_HLS_msn=%31']) {
      const r = await rawRequest(port, `/hls/alice/source.m3u8?${q}`);
      assert.equal(r.status, 400, q);
      assert.ok((JSON.parse(r.body.toString()) as { message: string }).message.length > 0);
    }
    assert.equal((await rawRequest(port, '/hls/alice/source.m3u8?cachebust=1&x')).status, 200);
    assert.deepEqual(parseReloadDirectives('_HLS_msn=4&_HLS_part=0'), { msn: 4, part: 0 });
    // _HLS_part beyond the Advance Part Limit (3 ÷ 0.2 s = 15 parts) past the last part (RFC 8216bis §6.2.5.2).
    assert.equal(advancePartLimit(0.2), 15);
    assert.equal(advancePartLimit(2), 3);
    const r = store.channel('alice')!.renditions.get('source')!;
    const lp = r.lastPart()!;
    for (const [msn, part] of [[lp.msn, lp.index + 16], [lp.msn + 1, 15], [lp.msn + 1, 1e9]] as const) {
      const res = await rawRequest(port, `/hls/alice/source.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`);
      assert.equal(res.status, 400, `${msn}/${part}`);
      assert.match(res.body.toString(), /advance part limit/);
    }
    assert.equal(partAdvanceExceeded(r, { msn: lp.msn, part: lp.index + 15 }, 0.2), false, 'up to the limit is waited for');
    assert.equal(partAdvanceExceeded(r, { msn: lp.msn + 1, part: 14 }, 0.2), false);
    assert.equal(partAdvanceExceeded(r, { msn: lp.msn - 1, part: 1e6 }, 0.2), false, 'an older segment is answered at once');
  });

  void it('caps held requests per client address (429) without affecting other addresses', async () => {
    const capped = await createLiveOrigin({ store, isReady: () => true, log: createLogger('origin-test'), metricsToken: null, maxHeldPerClient: 2 }, '127.0.0.1', 0);
    const waiting: ReturnType<typeof get>[] = [];
    const wait = (url: string, from: string) => {
      const g = get(capped.port, url, from);
      g.done.catch(() => undefined); // aborted below
      return g;
    };
    try {
      const last = store.channel('alice')!.renditions.get('source')!.lastCompleteMsn();
      const url = `/hls/alice/source.m3u8?_HLS_msn=${last + 2}`;
      for (let i = 0; i < 2; i++) waiting.push(wait(url, '127.0.0.1'));
      await waitUntil('2 held', () => (capped.heldRequests() === 2 ? true : undefined), 3000);
      const over = await rawRequest(capped.port, url);
      assert.equal(over.status, 429);
      assert.match(over.body.toString(), /held requests from this address/);
      waiting.push(wait(url, '127.0.0.2'));
      await waitUntil('another address is held', () => (capped.heldRequests() === 3 ? true : undefined), 3000);
      // An answered or aborted request frees its slot.
      waiting[0]!.abort();
      await waitUntil('slot freed', () => (capped.heldRequests() === 2 ? true : undefined), 3000);
      waiting.push(wait(url, '127.0.0.1'));
      await waitUntil('held again', () => (capped.heldRequests() === 3 ? true : undefined), 3000);
    } finally {
      for (const w of waiting) w.abort();
      await capped.close();
    }
  });

  void it('answers a held reload with 503 after three target durations, and forgets aborted clients', async () => {
    const last = store.channel('alice')?.renditions.get('source')?.lastCompleteMsn() ?? 0;
    const t0 = Date.now();
    const slow = get(port, `/hls/alice/source.m3u8?_HLS_msn=${last + 2}`);
    const gone = get(port, `/hls/alice/source.m3u8?_HLS_msn=${last + 2}`);
    gone.done.catch(() => undefined);
    await waitUntil('held', () => (origin.heldRequests() === 2 ? true : undefined), 3000);
    gone.abort();
    await waitUntil('aborted one released', () => (origin.heldRequests() === 1 ? true : undefined), 3000);
    const res = await slow.done;
    const waited = Date.now() - t0;
    assert.equal(res.status, 503);
    assert.ok(waited >= 2900 && waited < 6000, `waited ${waited} ms`);
    assert.equal(origin.heldRequests(), 0);
    // The origin still serves.
    await playlist('/hls/alice/source.m3u8');
  });

  void it('slides the window: bounded memory, parts only for the last segments, media sequence grows', async () => {
    feed(40);
    const r = store.channel('alice')?.renditions.get('source');
    assert.ok(r);
    assert.equal(r.segments.length, 4);
    assert.equal(r.segments.filter((s) => !s.partsDropped).length, 2);
    const { facts } = await playlist('/hls/alice/source.m3u8');
    assert.equal(facts.mediaSequence, r.segments[0]?.msn);
    assert.equal(facts.segments.filter((s) => s.parts.length > 0).length, 2);
    assert.equal((await rawRequest(port, `/hls/alice/${r.segmentUri(0)}`)).status, 404);
  });

  void it('a second init starts a discontinuity with a new EXT-X-MAP; msn keeps growing; the sequence follows the window', async () => {
    const r = ch.rendition('source');
    const before = await playlist('/hls/alice/source.m3u8');
    const lastMsn = before.facts.segments.at(-1)?.msn ?? 0;
    // A player fetched the hinted part early; the packager restarts instead: that part never comes (404), because
    // the next part belongs to the new init segment.
    const hinted = get(port, `/hls/alice/${r.partUri(r.nextPartN)}`);
    await waitUntil('hint held', () => (origin.heldRequests() === 1 ? true : undefined), 3000);
    r.init(media.init, SOURCE);
    assert.equal((await hinted.done).status, 404);
    ch.rendition('low').init(media.init, LOW);
    fed = 0; // the encoder restarted: media starts over, a minute later
    clockShiftMs = 60_000;
    feed(12);
    const { facts } = await playlist('/hls/alice/source.m3u8');
    const disc = facts.segments.find((s) => s.discontinuity);
    assert.ok(disc, 'EXT-X-DISCONTINUITY');
    assert.ok(disc.msn > lastMsn);
    assert.equal(disc.map, r.initUri(1));
    for (let i = 1; i < facts.segments.length; i++) assert.equal(facts.segments[i]?.msn, (facts.segments[i - 1]?.msn ?? 0) + 1);
    assert.equal((await rawRequest(port, `/hls/alice/${r.initUri(1)}`)).status, 200);
    feed(25);
    const slid = await playlist('/hls/alice/source.m3u8');
    assert.ok(slid.facts.segments.every((s) => !s.discontinuity));
    assert.equal(slid.facts.discontinuitySequence, 1);
    assert.ok(slid.facts.segments.every((s) => s.map === r.initUri(1)));
    assert.equal((await rawRequest(port, `/hls/alice/${r.initUri(0)}`)).status, 404);
  });

  void it('end(): EXT-X-ENDLIST, held requests answered, no preload hint', async () => {
    const r = ch.rendition('source');
    const heldPart = get(port, `/hls/alice/${r.partUri(r.nextPartN)}`);
    const heldPl = get(port, `/hls/alice/source.m3u8?_HLS_msn=${r.lastCompleteMsn() + 2}`);
    await waitUntil('held', () => (origin.heldRequests() === 2 ? true : undefined), 3000);
    store.close('alice', 60_000);
    assert.equal((await heldPart.done).status, 404);
    const pl = await heldPl.done;
    assert.equal(pl.status, 200);
    const { facts, violations } = checkMediaPlaylist(pl.body.toString());
    assert.deepEqual(violations, []);
    assert.equal(facts.endlist, true);
    assert.equal(facts.preloadHint, null);
    // A new session of the channel gets a new epoch, so old immutable URLs never name new media.
    const next = store.open('alice');
    assert.notEqual(next.epoch, ch.epoch);
  });

  void it('a client that stops reading a big body holds no copy and does not slow others', async () => {
    const big = store.open('bigbody').rendition('source');
    big.init(media.init, SOURCE);
    const body = Buffer.alloc(40 * 1024 * 1024, 0x5a);
    big.part({ data: body, durationSeconds: 0.2, independent: true, programDateTimeMs: Date.now() });
    const sockets = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<net.Socket>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.write(`GET /hls/bigbody/${big.partUri(0)} HTTP/1.1\r\nHost: x\r\n\r\n`);
          s.pause(); // never read: the origin's writes stall on a full socket buffer
          resolve(s);
        });
      })),
    );
    const rss0 = process.memoryUsage().rss;
    await tick(300);
    const t0 = Date.now();
    const ok = await rawRequest(port, '/hls/bigbody/source.m3u8');
    assert.equal(ok.status, 200);
    assert.ok(Date.now() - t0 < 1000, 'a normal request is not stuck behind the stalled ones');
    // 4 stalled 40-MiB responses: the kernel takes a few MiB per socket; copying the rest (what res.end does) would
    // hold > 100 MiB more.
    const grown = process.memoryUsage().rss - rss0;
    assert.ok(grown < 48 * 1024 * 1024, `RSS grew ${grown} bytes`);
    for (const s of sockets) s.destroy();
    await tick(100);
    assert.equal((await rawRequest(port, `/hls/bigbody/${big.partUri(0)}`, 'HEAD')).headers['content-length'], String(body.length));
    store.close('bigbody', 0);
  });

  void it('answers CORS preflight, HEAD, 405, health and ready', async () => {
    const pre = await rawRequest(port, '/hls/alice/index.m3u8', 'OPTIONS', { Origin: 'http://x', 'Access-Control-Request-Method': 'GET' });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    assert.match(String(pre.headers['access-control-allow-methods']), /GET/);
    const post = await rawRequest(port, '/hls/alice/index.m3u8', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD, OPTIONS');
    assert.equal((await rawRequest(port, '/health')).status, 200);
    assert.equal((await rawRequest(port, '/ready')).status, 503);
    ready = true;
    assert.equal((await rawRequest(port, '/ready')).status, 200);
    const metrics = await rawRequest(port, '/metrics');
    assert.equal(metrics.status, 200);
    // The earlier tests held requests: answered when parts came, one expired, one aborted by its client.
    for (const outcome of ['answered', 'expired', 'aborted']) {
      assert.match(metrics.body.toString(), new RegExp(`eventcast_ingest_hls_held_requests_total\\{outcome="${outcome}"\\} [1-9]`), outcome);
    }
    assert.match(metrics.body.toString(), /eventcast_ingest_hls_held_requests 0/);
    assert.equal((await rawRequest(port, '/admin/health')).status, 404);
  });

  void it('rejects path traversal with 400 and unknown files with 404', async () => {
    for (const p of ['/hls/../secret.txt', '/hls/alice/../../secret.txt', '/hls/%2e%2e/secret.txt', '/hls/alice/..%2f..%2fsecret.txt', '/hls/alice/%2e%2e%5csecret.txt', '/hls/alice/%E0%A4%A', '/hls/alice\\..\\secret.txt', '/hls/alice/a%00.m4s']) {
      assert.equal((await rawRequest(port, p)).status, 400, p);
    }
    for (const p of ['/hls/bob/index.m3u8', '/hls/alice/seg9.ts', '/hls/alice/index.m3u8/x', '/secret.txt', '/hls/alice/.hidden.ts', '/hls/Alice/index.m3u8', '/hls/alice/nope.m3u8', '/hls/alice/source-x-p1.m4s', '/hls/alice/source-abc-i99999999999.mp4']) {
      assert.equal((await rawRequest(port, p)).status, 404, p);
    }
    assert.deepEqual(parseOriginPath('/hls/alice/index.m3u8'), { kind: 'hls', username: 'alice', file: 'index.m3u8' });
    assert.equal(parseOriginPath('/hls/./alice/index.m3u8').kind, 'bad');
  });
});

void describe('LL-HLS origin with the start-up segment (the default)', () => {
  let dir: string;
  let media: SplitFmp4;
  let store: LiveMediaStore;
  let origin: LiveOrigin;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ingest-origin-startup-'));
    // A 2-s GOP, like OBS: without the start-up segment the first complete segment would come 2 s after the first part.
    media = splitFmp4(await makeFmp4(path.join(dir, 'clip.mp4'), { seconds: 6, fps: 25, gop: 50, fragSeconds: 0.2 }), Date.UTC(2026, 11, 7, 12));
    store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
    origin = await createLiveOrigin({ store, isReady: () => true, log: createLogger('origin-test'), metricsToken: null, thumbnails: { thumbnail: () => null } }, '127.0.0.1', 0);
  });
  after(async () => {
    await origin.close();
    store.clear();
    await rm(dir, { recursive: true, force: true });
  });

  void it('lists a complete segment with the first part, holds the reload for the next segment, keeps the LL-HLS rules', async () => {
    const ch = store.open('bea');
    const r = ch.rendition('source');
    r.init(media.init, SOURCE);
    // The mp4 muxer stretches the very first sample (edit list start); a live packager's parts begin mid-stream.
    const parts = media.parts.slice(10);
    assert.equal(parts[0]?.independent, true);
    assert.equal(parts.length, 20);
    r.part(parts[0]);
    const first = await rawRequest(origin.port, '/hls/bea/source.m3u8');
    assert.equal(first.status, 200);
    let checked = checkMediaPlaylist(first.body.toString());
    assert.deepEqual(checked.violations, [], first.body.toString());
    assert.equal(checked.facts.segments.length, 1, 'one complete segment: hls.js can start');
    assert.equal(checked.facts.segments[0]?.parts[0]?.independent, true);
    assert.equal(checked.facts.preloadHint, r.partUri(1));
    // hls.js's next reload asks for the first part of segment 1: held until it exists, then answered.
    const held = get(origin.port, '/hls/bea/source.m3u8?_HLS_msn=1&_HLS_part=0');
    await waitUntil('held', () => (origin.heldRequests() === 1 ? true : undefined), 3000);
    assert.equal(held.settled(), false);
    r.part(parts[1]!);
    const answer = await held.done;
    assert.equal(answer.status, 200);
    checked = checkMediaPlaylist(answer.body.toString());
    assert.deepEqual(checked.violations, [], answer.body.toString());
    assert.equal(checked.facts.openParts.length, 1);
    // The whole start-up segment is served like any other.
    const seg = await rawRequest(origin.port, `/hls/bea/${r.segmentUri(0)}`);
    assert.equal(seg.status, 200);
    assert.ok(seg.body.equals(parts[0].data));
    // Through the next keyframe: segment 1 ends there (shorter than a GOP); the next starts with it.
    for (const p of parts.slice(2)) r.part(p);
    const later = await rawRequest(origin.port, '/hls/bea/source.m3u8');
    checked = checkMediaPlaylist(later.body.toString());
    assert.deepEqual(checked.violations, [], later.body.toString());
    assert.deepEqual(checked.facts.segments.map((s) => [s.msn, Math.round(s.duration * 10) / 10]), [[0, 0.2], [1, 1.8]]);
    assert.equal(checked.facts.openParts[0]?.independent, true);
    assert.doesNotMatch(later.body.toString(), /#EXT-X-INDEPENDENT-SEGMENTS/);
  });
});
