/**
 * The origin's recordings and clips (issue 11) over real HTTP from a real `LocalDiskStorage`: `/vod/<broadcastId>/…`
 * (playlists of a live and of an ended recording with their Cache-Control, segments, init segments, thumbnail; 404 for
 * the manifest, bad ids and unknown names; 400 for traversal) and `/clips/<clipId>.mp4|.jpg` with byte ranges
 * (206 + Content-Range, 416, HEAD), a slow reader (streamed with backpressure), and `parseRange` itself.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import HLS from 'hls-parser';
import { clipKey, recordingKey } from '@eventcast/contracts';
import { LocalDiskStorage } from '@eventcast/media-storage';
import { createLogger } from '@eventcast/platform';
import { makeFmp4, splitFmp4 } from '../test-support/fmp4.js';
import { rawRequest } from '../test-support/harness.js';
import { createLiveOrigin, parseOriginPath, parseRange, type LiveOrigin } from './origin.js';
import { LiveMediaStore } from './store.js';
import { renderVodMediaPlaylist, renderVodMultivariantPlaylist, type RecordedSegment } from './vod-playlist.js';

const log = createLogger('origin-vod-test');
log.level = 'warn';

void describe('origin: /vod and /clips from the media storage', () => {
  let dir: string;
  let storage: LocalDiskStorage;
  let origin: LiveOrigin;
  let port: number;
  const live = randomUUID();
  const ended = randomUUID();
  const clipId = randomUUID();
  let init: Buffer;
  let segment: Buffer;
  /** A clip big enough to need several socket writes (8 MiB). */
  const clip = randomBytes(8 * 1024 * 1024);
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(1000), Buffer.from([0xff, 0xd9])]);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'origin-vod-'));
    storage = new LocalDiskStorage(path.join(dir, 'media'));
    const fmp4 = splitFmp4(await makeFmp4(path.join(dir, 'a.mp4'), { seconds: 2, fps: 25, gop: 25, fragSeconds: 0.2 }), Date.UTC(2026, 11, 7, 12));
    init = fmp4.init;
    segment = Buffer.concat(fmp4.parts.slice(0, 5).map((p) => p.data));
    const segs: RecordedSegment[] = [{ msn: 0, gen: 0, durationMs: 1000, programDateTimeMs: Date.UTC(2026, 11, 7, 12), bytes: segment.length, discontinuity: false, independent: true, startup: false }];
    const index = renderVodMultivariantPlaylist([{ name: 'source', codecs: 'avc1.42c00d,mp4a.40.2', width: 320, height: 180, frameRate: 25, bandwidth: 500_000, averageBandwidth: 400_000 }]);
    for (const [id, endedAt] of [[live, null], [ended, '2026-12-07T13:00:00.000Z']] as const) {
      await storage.put(recordingKey(id, 'index.m3u8'), Buffer.from(index));
      await storage.put(recordingKey(id, 'source.m3u8'), Buffer.from(renderVodMediaPlaylist('source', segs, { ended: endedAt !== null, targetDurationSeconds: 2 })));
      await storage.put(recordingKey(id, 'source-i0.mp4'), init);
      await storage.put(recordingKey(id, 'source-0.m4s'), segment);
      await storage.put(recordingKey(id, 'manifest.json'), Buffer.from(JSON.stringify({ version: 1, broadcastId: id, channelId: randomUUID(), username: 'alice', startedAt: '2026-12-07T12:00:00.000Z', endedAt, keep: true, renditions: [] })));
    }
    await storage.put(recordingKey(ended, 'thumbnail.jpg'), jpeg);
    await storage.put(clipKey(clipId, 'mp4'), clip);
    await storage.put(clipKey(clipId, 'jpg'), jpeg);
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.234 });
    origin = await createLiveOrigin({ store, storage, isReady: () => true, log, metricsToken: null }, '127.0.0.1', 0);
    port = origin.port;
  });

  after(async () => {
    await origin?.close();
    await rm(dir, { recursive: true, force: true });
  });

  void it('serves a live recording (the DVR window): EVENT playlists with a 1-s cache, segments and init segments immutable', async () => {
    const idx = await rawRequest(port, `/vod/${live}/index.m3u8`);
    assert.equal(idx.status, 200);
    assert.equal(idx.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(idx.headers['cache-control'], 'public, max-age=1');
    assert.equal(idx.headers['access-control-allow-origin'], '*');
    const mv = HLS.parse(idx.body.toString());
    assert.ok(mv.isMasterPlaylist);
    assert.equal(mv.variants[0]?.uri, 'source.m3u8');
    const pl = await rawRequest(port, `/vod/${live}/source.m3u8`);
    assert.equal(pl.status, 200);
    assert.equal(pl.headers['cache-control'], 'public, max-age=1');
    const parsed = HLS.parse(pl.body.toString());
    assert.ok(!parsed.isMasterPlaylist && parsed.playlistType === 'EVENT' && !parsed.endlist);
    const seg = await rawRequest(port, `/vod/${live}/source-0.m4s`);
    assert.equal(seg.status, 200);
    assert.equal(seg.headers['content-type'], 'video/iso.segment');
    assert.equal(seg.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(seg.headers['accept-ranges'], 'bytes');
    assert.deepEqual(seg.body, segment);
    const i = await rawRequest(port, `/vod/${live}/source-i0.mp4`);
    assert.equal(i.status, 200);
    assert.equal(i.headers['content-type'], 'video/mp4');
    assert.deepEqual(i.body, init);
    const part = await rawRequest(port, `/vod/${live}/source-0.m4s`, 'GET', { Range: 'bytes=8-15' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 8-15/${segment.length}`);
    assert.deepEqual(part.body, segment.subarray(8, 16));
  });

  void it('serves the rewritten playlist once the recording file changes (in-memory copies follow the storage)', async () => {
    const id = randomUUID();
    const seg = (msn: number): RecordedSegment => ({ msn, gen: 0, durationMs: 1000, programDateTimeMs: Date.UTC(2026, 11, 7, 12) + msn * 1000, bytes: 10, discontinuity: false, independent: true, startup: false });
    await storage.put(recordingKey(id, 'source.m3u8'), Buffer.from(renderVodMediaPlaylist('source', [seg(0)], { ended: false, targetDurationSeconds: 2 })));
    const a = HLS.parse((await rawRequest(port, `/vod/${id}/source.m3u8`)).body.toString());
    assert.ok(!a.isMasterPlaylist && a.segments.length === 1);
    await storage.put(recordingKey(id, 'source.m3u8'), Buffer.from(renderVodMediaPlaylist('source', [seg(0), seg(1)], { ended: true, targetDurationSeconds: 2 })));
    const r = await rawRequest(port, `/vod/${id}/source.m3u8`);
    const b = HLS.parse(r.body.toString());
    assert.ok(!b.isMasterPlaylist && b.segments.length === 2 && b.endlist);
    assert.equal(r.headers['cache-control'], 'public, max-age=86400');
    await storage.deletePrefix(`recordings/${id}/`);
    assert.equal((await rawRequest(port, `/vod/${id}/source.m3u8`)).status, 404);
  });

  void it('serves an ended recording with long caching: VOD playlists, thumbnail', async () => {
    const idx = await rawRequest(port, `/vod/${ended}/index.m3u8`);
    assert.equal(idx.headers['cache-control'], 'public, max-age=86400');
    const pl = await rawRequest(port, `/vod/${ended}/source.m3u8`);
    assert.equal(pl.status, 200);
    assert.equal(pl.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(pl.headers['cache-control'], 'public, max-age=86400');
    const parsed = HLS.parse(pl.body.toString());
    assert.ok(!parsed.isMasterPlaylist && parsed.playlistType === 'VOD' && parsed.endlist);
    const t = await rawRequest(port, `/vod/${ended}/thumbnail.jpg`);
    assert.equal(t.status, 200);
    assert.equal(t.headers['content-type'], 'image/jpeg');
    assert.deepEqual(t.body, jpeg);
    const head = await rawRequest(port, `/vod/${ended}/source-0.m4s`, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), segment.length);
    assert.equal(head.body.length, 0);
  });

  void it('refuses anything that is not a recording file: manifest, bad ids, unknown names (404), traversal (400)', async () => {
    for (const p of [
      `/vod/${ended}/manifest.json`,
      `/vod/${ended}/source.mp4`,
      `/vod/${ended}/SOURCE.m3u8`,
      `/vod/${ended}/source-1.m4s`,
      `/vod/${live}/thumbnail.jpg`,
      `/vod/${randomUUID()}/index.m3u8`,
      `/vod/not-a-uuid/index.m3u8`,
      `/vod/${ended.toUpperCase()}/index.m3u8`,
      `/vod/${ended}`,
      `/vod/${ended}/x/index.m3u8`,
      `/clips/${clipId}.gif`,
      `/clips/${clipId}`,
      `/clips/not-a-uuid.mp4`,
      `/clips/${randomUUID()}.mp4`,
    ]) {
      const r = await rawRequest(port, p);
      assert.equal(r.status, 404, p);
      assert.equal(r.headers['cache-control'], 'no-store', p);
    }
    for (const p of [`/vod/${ended}/../${ended}/manifest.json`, `/vod/${ended}/%2e%2e/index.m3u8`, `/vod/${ended}/..%2fmanifest.json`, `/clips/..%2f..%2fetc%2fpasswd`]) {
      assert.equal((await rawRequest(port, p)).status, 400, p);
    }
    assert.deepEqual(parseOriginPath(`/vod/${ended}/manifest.json`), { kind: 'notfound' });
    assert.deepEqual(parseOriginPath(`/clips/${clipId}.mp4`), { kind: 'clip', clipId, ext: 'mp4' });
    assert.equal((await rawRequest(port, `/vod/${ended}/index.m3u8`, 'POST')).status, 405);
  });

  void it('serves clips whole and by byte ranges (206, 416, HEAD)', async () => {
    const size = clip.length;
    const whole = await rawRequest(port, `/clips/${clipId}.mp4`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['content-type'], 'video/mp4');
    assert.equal(whole.headers['accept-ranges'], 'bytes');
    assert.equal(Number(whole.headers['content-length']), size);
    assert.match(String(whole.headers['cache-control']), /max-age=86400/);
    assert.ok(whole.body.equals(clip), 'the whole clip, byte for byte');
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-', 1000, size - 1],
      ['bytes=-500', size - 500, size - 1],
      [`bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
      [`bytes=-${size + 5}`, 0, size - 1],
    ];
    for (const [range, a, b] of cases) {
      const r = await rawRequest(port, `/clips/${clipId}.mp4`, 'GET', { Range: range });
      assert.equal(r.status, 206, range);
      assert.equal(r.headers['content-range'], `bytes ${a}-${b}/${size}`, range);
      assert.equal(Number(r.headers['content-length']), b - a + 1, range);
      assert.ok(r.body.equals(clip.subarray(a, b + 1)), range);
    }
    for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
      const r = await rawRequest(port, `/clips/${clipId}.mp4`, 'GET', { Range: range });
      assert.equal(r.status, 416, range);
      assert.equal(r.headers['content-range'], `bytes */${size}`, range);
    }
    // Not a single byte range: the whole clip (RFC 9110 §14.2 lets a server ignore Range).
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=9-3']) {
      const r = await rawRequest(port, `/clips/${clipId}.mp4`, 'GET', { Range: range });
      assert.equal(r.status, 200, range);
      assert.equal(r.body.length, size, range);
    }
    const head = await rawRequest(port, `/clips/${clipId}.mp4`, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), size);
    assert.equal(head.body.length, 0);
    const headRange = await rawRequest(port, `/clips/${clipId}.mp4`, 'HEAD', { Range: 'bytes=10-19' });
    assert.equal(headRange.status, 206);
    assert.equal(Number(headRange.headers['content-length']), 10);
    assert.equal(headRange.headers['content-range'], `bytes 10-19/${size}`);
    const pic = await rawRequest(port, `/clips/${clipId}.jpg`);
    assert.equal(pic.status, 200);
    assert.equal(pic.headers['content-type'], 'image/jpeg');
    assert.deepEqual(pic.body, jpeg);
  });

  void it('streams a clip to a slow reader with backpressure and survives readers that leave mid-body', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `/clips/${clipId}.mp4`, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.pause();
        setTimeout(() => res.resume(), 700); // the socket buffers fill; the origin must wait, not buffer 8 MiB
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    assert.ok(body.equals(clip));
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: `/clips/${clipId}.mp4`, agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => resolve());
      });
    }
    const after = await rawRequest(port, `/clips/${clipId}.mp4`, 'GET', { Range: 'bytes=0-9' });
    assert.equal(after.status, 206, 'the origin still answers');
  });

  void it('parseRange: RFC 9110 single byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
    assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=2-100', 10), { start: 2, end: 9 });
    assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=-', 10), null);
    assert.equal(parseRange('bytes=3-2', 10), null);
    assert.equal(parseRange('bytes=0-1,3-4', 10), null);
    assert.equal(parseRange('lines=0-1', 10), null);
  });
});
