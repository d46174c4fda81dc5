/**
 * End-to-end tests of the ingest process against real ffmpeg, node-media-server and NATS. The command side is a
 * fake speaking the Nest NATS wire format on subjects with a per-run prefix (INGEST_COMMAND_SUBJECT_PREFIX).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import HLS from 'hls-parser';
import { broadcastRecordedRequestSchema, type BroadcastRecordedRequest } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';
import { generateStreamKey, hashStreamKey } from '@eventcast/platform';
import type { FakeHandlers } from './test-support/fake-command-side.js';
import { publishTestStream, rawRequest, waitUntil } from './test-support/harness.js';
import { provesKey, singleChannelHandlers, startIngestRun, testSubjectPrefix, type IngestRun } from './test-support/ingest-run.js';

const channelId = randomUUID();
const username = `u_${randomBytes(4).toString('hex')}`;
const validKey = generateStreamKey(channelId);
const validHash = hashStreamKey(validKey);
const prefix = testSubjectPrefix();

let authorizeMode: 'normal' | 'silent' = 'normal';
/** A key rotated in, valid besides {@link validKey} once set (test g). */
let rotatedKey: string | null = null;
const handlers: FakeHandlers = {
  ...singleChannelHandlers({ key: validKey, channelId, username }),
  [CommandPatterns.AuthorizePublish]: (d) => {
    if (authorizeMode === 'silent') return undefined;
    return (provesKey(d, validKey) || (rotatedKey !== null && provesKey(d, rotatedKey))) && d['channelId'] === channelId
      ? { allowed: true, channelId, username }
      : { allowed: false, reason: d['channelId'] === null ? 'malformed_key' : 'invalid_key', message: 'no' };
  },
};

void describe('ingest (real ffmpeg, NMS and NATS)', { timeout: 90_000 }, () => {
  let run: IngestRun;
  const rtmp = (key: string) => run.rtmpUrl(key);

  before(async () => {
    run = await startIngestRun({
      prefix,
      handlers,
      tmpPrefix: 'ingest-test-',
      // a stale channel directory from a "crashed" run must be removed at startup
      prepareMediaDir: (dir) => mkdir(path.join(dir, 'stale_user')),
      env: { INGEST_PUBLISH_GRACE_MS: '2000', INGEST_HLS_CLEANUP_DELAY_MS: '1000', INGEST_COMMAND_TIMEOUT_MS: '1500', LOG_LEVEL: 'debug' },
    });
  });

  after(() => run?.stop());

  /**
   * Checks an announced recording against what the origin serves: `index.m3u8`, a VOD media playlist with
   * EXT-X-ENDLIST whose EXTINF sum is `durationMs` (and the timeline's), every segment there, the thumbnail, and the
   * manifest not served. `seconds` is the published length (the recording lasts about that long).
   */
  async function checkRecording(body: BroadcastRecordedRequest, publishedMs: number): Promise<void> {
    assert.equal(body.channelId, channelId);
    assert.ok(body.durationMs > publishedMs - 2500 && body.durationMs < publishedMs + 2000, `durationMs ${body.durationMs}`);
    assert.equal(body.timeline.reduce((n, r) => n + r.durationMs, 0), body.durationMs);
    assert.equal(body.timeline[0]?.offsetMs, 0);
    assert.ok(Math.abs((body.timeline[0]?.programDateTimeMs ?? 0) - Date.now()) < 120_000, 'program date time is wall-clock time');
    assert.equal(body.renditions.length, 1);
    assert.equal(body.renditions[0]?.name, 'source');
    assert.match(body.renditions[0]?.codecs ?? '', /^avc1\.[0-9a-fA-F]{6},mp4a\.40\.2$/);
    assert.ok(body.bytes > 0 && body.bytes === body.renditions[0]?.bytes);
    const vod = (p: string) => rawRequest(run.httpPort, `/vod/${body.broadcastId}/${p}`);
    const index = await vod('index.m3u8');
    assert.equal(index.status, 200);
    assert.match(index.body.toString(), /^source\.m3u8$/m);
    const pl = await vod('source.m3u8');
    assert.equal(pl.status, 200);
    assert.equal(pl.headers['cache-control'], 'public, max-age=86400');
    const parsed = HLS.parse(pl.body.toString());
    assert.ok(!parsed.isMasterPlaylist);
    assert.equal(parsed.playlistType, 'VOD');
    assert.equal(parsed.endlist, true);
    assert.equal(parsed.segments.length, body.renditions[0]?.segments);
    assert.equal(parsed.segments.reduce((n, seg) => n + Math.round(seg.duration * 1000), 0), body.durationMs);
    let bytes = 0;
    for (const seg of parsed.segments) {
      const r = await vod(seg.uri);
      assert.equal(r.status, 200, seg.uri);
      assert.equal(r.body.toString('latin1', 4, 8), 'moof');
      bytes += r.body.length;
    }
    for (const uri of new Set(parsed.segments.map((seg) => seg.map?.uri ?? ''))) {
      const r = await vod(uri);
      assert.equal(r.status, 200, uri);
      bytes += r.body.length;
    }
    assert.equal(bytes, body.bytes, 'the announced bytes are the stored media');
    assert.equal((await vod('thumbnail.jpg')).status, body.thumbnail ? 200 : 404);
    assert.equal(body.thumbnail, true);
    assert.equal((await vod('manifest.json')).status, 404);
  }

  void it('announces itself and removes stale HLS directories at startup', async () => {
    const call = await run.fake.waitFor(CommandPatterns.IngestNodeStarted);
    assert.equal(call.data['ingestId'], `test-${prefix}`);
    assert.equal(existsSync(path.join(run.mediaDir, 'stale_user')), false);
    const health = await rawRequest(run.httpPort, '/health');
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body.toString()), { status: 'ok' });
  });

  void it('(a) a valid key: authorizes by a one-time proof, starts the broadcast, serves HLS, ends and cleans up', async () => {
    const pub = publishTestStream(rtmp(validKey), 7);
    const auth = await run.fake.waitFor(CommandPatterns.AuthorizePublish, (c) => c.data['channelId'] === channelId);
    assert.ok(provesKey(auth.data, validKey), 'a valid proof of the key');
    assert.equal(auth.data['remoteAddress'], '127.0.0.1');
    assert.ok(!auth.raw.includes(validKey), 'the key must not travel on NATS');
    assert.ok(!auth.raw.includes(validHash), 'the key hash must not travel on NATS (invariant 9)');

    const start = await run.fake.waitFor(CommandPatterns.BroadcastStart);
    const media = start.data['media'] as Record<string, unknown>;
    assert.equal(start.data['channelId'], channelId);
    assert.match(String(start.data['broadcastId']), /^[0-9a-f-]{36}$/);
    assert.equal(media['videoCodec'], 'h264');
    assert.equal(media['audioCodec'], 'aac');
    assert.equal(media['width'], 640);
    assert.equal(media['height'], 360);
    assert.ok(Math.abs(Number(media['frameRate']) - 30) < 1, `frameRate ${String(media['frameRate'])}`);
    assert.equal(media['audioSampleRate'], 44100);

    // LL-HLS from the live media store (URL grammar: @eventcast/contracts hls.ts): the multivariant playlist names the
    // source rendition; its media playlist has parts and 1-s segments of fragmented MP4 (a 1-s GOP in).
    const multivariant = await waitUntil('multivariant playlist', async () => {
      const r = await rawRequest(run.httpPort, `/hls/${username}/index.m3u8`);
      return r.status === 200 ? r : undefined;
    });
    assert.match(multivariant.body.toString(), /^#EXT-X-STREAM-INF:.*CODECS="avc1\.[0-9a-fA-F]{6},mp4a\.40\.2"/m);
    assert.match(multivariant.body.toString(), /^source\.m3u8$/m);
    const playlist = await waitUntil('4 segments', async () => {
      const r = await rawRequest(run.httpPort, `/hls/${username}/source.m3u8`);
      return r.status === 200 && (r.body.toString().match(/#EXTINF/g) ?? []).length >= 4 ? r : undefined;
    });
    assert.equal(playlist.headers['access-control-allow-origin'], '*');
    const text = playlist.body.toString();
    assert.match(text, /#EXT-X-PROGRAM-DATE-TIME/);
    assert.match(text, /#EXT-X-MAP:URI="source-[a-z0-9]+-i\d+\.mp4"/);
    assert.match(text, /^#EXT-X-PART:(?=.*URI="source-[a-z0-9]+-p\d+\.m4s")(?=.*INDEPENDENT=YES).*$/m);
    const durations = [...text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
    // The start-up segment (the first part, store.ts), the rest of the first GOP, then 1-s segments.
    // (one part; ffmpeg can stretch a run's first sample, so the first part may outlast the others)
    assert.ok((durations[0] ?? 1) <= 0.5, `start-up segment ${durations[0]}`);
    assert.ok((durations[1] ?? 1) < 1.2, `second segment ${durations[1]}`);
    for (const d of durations.slice(2)) assert.ok(d > 0.8 && d < 1.2, `segment duration ${d}`);
    const segment = text.split('\n').find((l) => /^source-[a-z0-9]+-\d+\.m4s$/.test(l));
    assert.ok(segment && !segment.includes(validKey));
    const seg = await rawRequest(run.httpPort, `/hls/${username}/${segment}`);
    assert.equal(seg.status, 200);
    assert.equal(seg.headers['access-control-allow-origin'], '*');
    assert.equal(seg.body.toString('latin1', 4, 8), 'moof', 'a fragmented MP4 segment starts with a moof box');
    const head = await rawRequest(run.httpPort, `/hls/${username}/${segment}`, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), seg.body.length);
    assert.equal(head.body.length, 0);

    // The recording while live (the DVR window, issue 11): an EVENT playlist of the broadcast so far, short caching.
    const broadcastId = String(start.data['broadcastId']);
    const dvr = await waitUntil('DVR playlist', async () => {
      const r = await rawRequest(run.httpPort, `/vod/${broadcastId}/source.m3u8`);
      return r.status === 200 && (r.body.toString().match(/#EXTINF/g) ?? []).length >= 2 ? r : undefined;
    });
    assert.match(dvr.body.toString(), /^#EXT-X-PLAYLIST-TYPE:EVENT$/m);
    assert.doesNotMatch(dvr.body.toString(), /#EXT-X-ENDLIST/);
    assert.equal(dvr.headers['cache-control'], 'public, max-age=1');
    assert.equal((await rawRequest(run.httpPort, `/vod/${broadcastId}/index.m3u8`)).status, 200);

    assert.equal(await pub.exit, 0, pub.stderr());
    const end = await run.fake.waitFor(CommandPatterns.BroadcastEnd);
    assert.deepEqual(end.data, { channelId, broadcastId: start.data['broadcastId'], reason: 'unpublished' });
    const endedAt = Date.now();
    // The recording is finalized and announced within seconds of the end (the reply to broadcast-start had no
    // `record`: kept), consistent with the VOD playlist the origin now serves.
    const recorded = await run.fake.waitFor(CommandPatterns.BroadcastRecorded, (c) => c.data['broadcastId'] === broadcastId, 15_000);
    assert.ok(Date.now() - endedAt < 5000, `announced ${Date.now() - endedAt} ms after the end`);
    const body = broadcastRecordedRequestSchema.parse(recorded.data);
    await checkRecording(body, 7000);
    assert.equal(body.renditions[0]?.width, 640);
    assert.equal(body.renditions[0]?.height, 360);
    assert.equal(body.timeline.length, 1);
    // The ended broadcast stays readable for INGEST_HLS_CLEANUP_DELAY_MS, then the store forgets it.
    await waitUntil('channel forgotten', async () => ((await rawRequest(run.httpPort, `/hls/${username}/source.m3u8`)).status === 404 ? true : undefined), 10_000);
    assert.equal(run.fake.calls.filter((c) => c.pattern === CommandPatterns.BroadcastStart).length, 1);
  });

  void it('(b) refused keys: the publisher is disconnected and nothing is packaged', async () => {
    const wrongKey = generateStreamKey(channelId); // well-formed, but not the channel's key
    const pub = publishTestStream(rtmp(wrongKey), 10);
    const code = await Promise.race([pub.exit, new Promise((r) => setTimeout(() => r('still running'), 8000))]);
    assert.notEqual(code, 0);
    assert.notEqual(code, 'still running');
    const auth = await run.fake.waitFor(CommandPatterns.AuthorizePublish, (c) => provesKey(c.data, wrongKey));
    assert.equal(auth.data['channelId'], channelId);

    const malformed = publishTestStream(rtmp('not_a_stream_key'), 10);
    assert.notEqual(await malformed.exit, 0);
    const auth2 = await run.fake.waitFor(CommandPatterns.AuthorizePublish, (c) => c.data['channelId'] === null);
    assert.ok(provesKey(auth2.data, 'not_a_stream_key'));

    const other = publishTestStream(`rtmp://127.0.0.1:${run.rtmpPort}/other/${validKey}`, 10);
    assert.notEqual(await other.exit, 0);
    assert.deepEqual(await readdir(run.mediaDir), []);
  });

  void it('(d) fails closed when the command side does not answer', async () => {
    authorizeMode = 'silent';
    try {
      const before = run.fake.calls.length;
      const t0 = Date.now();
      const pub = publishTestStream(rtmp(validKey), 15);
      assert.notEqual(await pub.exit, 0);
      assert.ok(Date.now() - t0 < 10_000);
      assert.ok(run.fake.calls.slice(before).every((c) => c.pattern === CommandPatterns.AuthorizePublish));
      assert.deepEqual(await readdir(run.mediaDir), []);
    } finally {
      authorizeMode = 'normal';
    }
  });

  void it('(f) a reconnect within the grace period keeps the broadcast and restarts the packager', async () => {
    const n = run.fake.calls.length;
    const since = (pattern: string) => run.fake.calls.slice(n).filter((c) => c.pattern === pattern);
    const packagerRuns = () => (run.ingest.output().match(/"msg":"packager started"/g) ?? []).length;
    const runsBefore = packagerRuns();
    const first = publishTestStream(rtmp(validKey), 3);
    await run.fake.waitFor(CommandPatterns.BroadcastStart, (c) => run.fake.calls.indexOf(c) >= n);
    assert.equal(await first.exit, 0);
    const second = publishTestStream(rtmp(validKey), 3);
    await waitUntil('second authorization', () => (since(CommandPatterns.AuthorizePublish).length === 2 ? true : undefined));
    assert.equal(await second.exit, 0);
    await run.fake.waitFor(CommandPatterns.BroadcastEnd, (c) => run.fake.calls.indexOf(c) >= n);
    assert.equal(since(CommandPatterns.BroadcastStart).length, 1);
    assert.equal(since(CommandPatterns.BroadcastEnd).length, 1);
    assert.equal(since(CommandPatterns.BroadcastEnd)[0]?.data['broadcastId'], since(CommandPatterns.BroadcastStart)[0]?.data['broadcastId']);
    // One recording of the whole broadcast, with a second timeline run after the reconnect (a discontinuity).
    const broadcastId = since(CommandPatterns.BroadcastStart)[0]?.data['broadcastId'];
    const recorded = await run.fake.waitFor(CommandPatterns.BroadcastRecorded, (c) => c.data['broadcastId'] === broadcastId, 15_000);
    const body = broadcastRecordedRequestSchema.parse(recorded.data);
    await checkRecording(body, 6000);
    assert.equal(body.timeline.length, 2, JSON.stringify(body.timeline));
    assert.ok((body.timeline[1]?.programDateTimeMs ?? 0) > (body.timeline[0]?.programDateTimeMs ?? 0) + (body.timeline[0]?.durationMs ?? 0) - 100);
    // A new packager run for the reconnected session (a new init segment: the new session's timestamps start again),
    // in the same store channel and broadcast.
    assert.equal(packagerRuns() - runsBefore, 2, 'one packager run per publisher session');
  });

  void it('(g) a reconnect within the grace period with a rotated key and a new picture size is packaged from the new session', async () => {
    const n = run.fake.calls.length;
    const since = (pattern: string) => run.fake.calls.slice(n).filter((c) => c.pattern === pattern);
    rotatedKey = generateStreamKey(channelId);
    try {
      const first = publishTestStream(rtmp(validKey), 3, { preset: 'ultrafast' });
      await run.fake.waitFor(CommandPatterns.BroadcastStart, (c) => run.fake.calls.indexOf(c) >= n);
      await waitUntil('640x360 announced', async () => {
        const r = await rawRequest(run.httpPort, `/hls/${username}/index.m3u8`);
        return r.status === 200 && r.body.toString().includes('RESOLUTION=640x360') ? true : undefined;
      }, 15_000);
      assert.equal(await first.exit, 0);
      // The streamer rotated the key and lowered the resolution, and reconnects within the grace period (2 s).
      const second = publishTestStream(rtmp(rotatedKey), 8, { size: '320x180', preset: 'ultrafast' });
      await waitUntil('the new session packaged (320x180 announced)', async () => {
        const r = await rawRequest(run.httpPort, `/hls/${username}/index.m3u8`);
        return r.status === 200 && r.body.toString().includes('RESOLUTION=320x180') ? true : undefined;
      }, 20_000);
      assert.equal(since(CommandPatterns.BroadcastStart).length, 1, 'the same broadcast goes on');
      const source = await rawRequest(run.httpPort, `/hls/${username}/source.m3u8`);
      assert.match(source.body.toString(), /#EXT-X-DISCONTINUITY/);
      assert.ok(!run.ingest.output().includes(rotatedKey) && !run.ingest.output().includes(validKey), 'no stream key in the log');
      assert.equal(await second.exit, 0);
      await run.fake.waitFor(CommandPatterns.BroadcastEnd, (c) => run.fake.calls.indexOf(c) >= n);
    } finally {
      rotatedKey = null;
    }
  });

  void it('(e) SIGTERM with a live publisher ends the broadcast as ingest_restart and exits 0', async () => {
    const n = run.fake.calls.length;
    const pub = publishTestStream(rtmp(validKey), 30);
    const start = await run.fake.waitFor(CommandPatterns.BroadcastStart, (c) => run.fake.calls.indexOf(c) >= n);
    // Some media recorded (the DVR playlist exists), then SIGTERM.
    await waitUntil('DVR playlist', async () => ((await rawRequest(run.httpPort, `/vod/${String(start.data['broadcastId'])}/source.m3u8`)).status === 200 ? true : undefined));
    assert.equal(await run.ingest.stop(), 0);
    const end = await run.fake.waitFor(CommandPatterns.BroadcastEnd, (c) => c.data['broadcastId'] === start.data['broadcastId'], 1000);
    assert.equal(end.data['reason'], 'ingest_restart');
    // Graceful shutdown finalizes and announces the recording before the process exits.
    const recorded = await run.fake.waitFor(CommandPatterns.BroadcastRecorded, (c) => c.data['broadcastId'] === start.data['broadcastId'], 1000);
    assert.ok(broadcastRecordedRequestSchema.parse(recorded.data).durationMs > 0);
    assert.notEqual(await pub.exit, 0);
    assert.ok(!run.ingest.output().includes(validKey), 'the stream key must never be logged');
    for (const line of run.ingest.output().trim().split('\n')) JSON.parse(line);
  });
});
