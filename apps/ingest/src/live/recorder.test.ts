/**
 * The recorder (./recorder.ts) on the real live media store fed with real fragmented MP4 made by ffmpeg
 * (test-support/fmp4.ts), writing to a real `LocalDiskStorage` in a temporary directory: segments closed before the
 * broadcast id is known are back-filled; the EVENT playlists while live and the VOD playlists after the end parse with
 * hls-parser; a second init gives an EXT-X-DISCONTINUITY and a second timeline run; every listed segment exists with
 * its bytes; the announcement is consistent; `record: false` deletes the recording; a full write queue drops the
 * oldest pending segments and the playlist stays playable; an unfinished recording is finalized by `recover`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import HLS from 'hls-parser';
import {
  broadcastRecordedRequestSchema,
  mediaOffsetAt,
  recordingKey,
  recordingManifestSchema,
  recordingPrefix,
  type BroadcastRecordedReply,
  type BroadcastRecordedRequest,
} from '@eventcast/contracts';
import { LocalDiskStorage } from '@eventcast/media-storage';
import { createLogger } from '@eventcast/platform';
import { makeFmp4, splitFmp4, type SplitFmp4 } from '../test-support/fmp4.js';
import { waitUntil } from '../test-support/harness.js';
import type { RenditionDescriptor } from './media-sink.js';
import { Recorder } from './recorder.js';
import { LiveMediaStore, advertisedPartTarget } from './store.js';

const log = createLogger('recorder-test');
log.level = 'warn';
const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);

const desc = (name: string): RenditionDescriptor => ({ name, codecs: 'avc1.64000d,mp4a.40.2', width: 320, height: 180, frameRate: 30, bandwidth: 500_000, transcoded: false });

/** A fake command client that records `ingest.broadcast-recorded` (the NATS path is covered by ingest.e2e.test.ts). */
function commands() {
  const calls: BroadcastRecordedRequest[] = [];
  return { calls, broadcastRecorded: (req: BroadcastRecordedRequest): Promise<BroadcastRecordedReply> => (calls.push(req), Promise.resolve({ ok: true, position: '1' })) };
}

const newStore = () => new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: advertisedPartTarget(0.2) });

function media(text: string): HLS.types.MediaPlaylist {
  const p = HLS.parse(text);
  assert.ok(!p.isMasterPlaylist);
  return p;
}

void describe('recorder (real ffmpeg fMP4, real store, local-disk storage)', { timeout: 120_000 }, () => {
  let dir: string;
  let fmp4: SplitFmp4;
  let fmp4b: SplitFmp4;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'recorder-test-'));
    // 12 s, 1-s GOP, 0.2-s parts; and a second "session" (after a reconnect) of 4 s, one minute later.
    fmp4 = splitFmp4(await makeFmp4(path.join(dir, 'a.mp4'), { seconds: 12, fps: 30, gop: 30, fragSeconds: 0.2 }), T0);
    fmp4b = splitFmp4(await makeFmp4(path.join(dir, 'b.mp4'), { seconds: 4, fps: 30, gop: 30, fragSeconds: 0.2 }), T0 + 60_000);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('records every closed segment (back-filled from before the broadcast start), EVENT while live, VOD + timeline after the end', async () => {
    const storage = new LocalDiskStorage(path.join(dir, 'store1'));
    const store = newStore();
    const cmd = commands();
    const recorder = new Recorder({ store, storage, commands: cmd, log });
    recorder.start();
    const broadcastId = randomUUID();
    const channelId = randomUUID();
    const r = store.open('alice').rendition('source');
    r.init(fmp4.init, desc('source'));
    // 10 s of parts before ingest.broadcast-start answers: more than the store's window of 6 segments.
    const split = Math.floor(fmp4.parts.length * (10 / 12));
    for (const p of fmp4.parts.slice(0, split)) r.part(p);
    assert.ok(r.segments[0]!.msn > 0, 'the store window slid past the first segments');
    recorder.started({ channelId, broadcastId, username: 'alice', record: true });
    for (const p of fmp4.parts.slice(split)) r.part(p);
    const key = (f: string) => recordingKey(broadcastId, f);

    // Live: an EVENT playlist of every closed segment so far, from msn 0.
    const live = await waitUntil('EVENT playlist with every closed segment', async () => {
      const t = await storage.get(key('source.m3u8'));
      const closed = r.lastCompleteMsn() + 1;
      return t && media(t.toString()).segments.length === closed ? media(t.toString()) : undefined;
    });
    assert.equal(live.playlistType, 'EVENT');
    assert.equal(live.endlist, false);
    assert.equal(live.segments[0]?.uri, 'source-0.m4s');
    for (const s of live.segments) assert.ok(s.programDateTime instanceof Date, `PDT on ${s.uri}`);
    const manifest0 = recordingManifestSchema.parse(JSON.parse((await storage.get(key('manifest.json')))!.toString()));
    assert.equal(manifest0.endedAt, null);
    assert.equal(manifest0.keep, true);
    const index = await waitUntil('index.m3u8', () => storage.get(key('index.m3u8')).then((b) => b ?? undefined));
    const mv = HLS.parse(index.toString());
    assert.ok(mv.isMasterPlaylist);
    assert.equal(mv.variants[0]?.uri, 'source.m3u8');
    assert.equal(mv.variants[0]?.codecs, 'avc1.64000d,mp4a.40.2');
    assert.deepEqual(mv.variants[0]?.resolution, { width: 320, height: 180 });
    // While live, the manifest names the renditions once they are known (live clips are cut from the first one).
    const manifestLive = await waitUntil('the manifest with the renditions', async () => {
      const m = recordingManifestSchema.parse(JSON.parse((await storage.get(key('manifest.json')))!.toString()));
      return m.renditions.length > 0 ? m : undefined;
    });
    assert.equal(manifestLive.endedAt, null);
    assert.deepEqual(manifestLive.renditions.map((x) => x.name), ['source']);

    // A reconnect within the grace period: a new init (generation 1) in the same store channel.
    r.init(fmp4b.init, desc('source'));
    for (const p of fmp4b.parts) r.part(p);
    store.close('alice', 60_000);
    const lastMsn = r.lastCompleteMsn();
    const storeBytes = [...fmp4.parts, ...fmp4b.parts].reduce((n, p) => n + p.data.length, 0);
    const t = Date.now();
    await recorder.finished({ username: 'alice', broadcastId });
    assert.ok(Date.now() - t < 10_000, 'finalized within seconds');

    const vod = media((await storage.get(key('source.m3u8')))!.toString());
    assert.equal(vod.playlistType, 'VOD');
    assert.equal(vod.endlist, true);
    assert.equal(vod.segments.length, lastMsn + 1, 'every segment, none lost to the store window');
    assert.ok(vod.segments.every((s) => Math.round(s.duration) <= vod.targetDuration));
    const disc = vod.segments.findIndex((s) => s.discontinuity);
    assert.ok(disc > 0, 'a discontinuity after the second init');
    assert.equal(vod.segments.filter((s) => s.discontinuity).length, 1);
    assert.equal(vod.segments[disc]?.map?.uri, 'source-i1.mp4');
    assert.equal(vod.segments[0]?.map?.uri, 'source-i0.mp4');
    assert.equal(vod.segments[0]?.programDateTime?.getTime(), T0);
    assert.equal(vod.segments[disc]?.programDateTime?.getTime(), T0 + 60_000);
    let bytes = 0;
    for (const s of vod.segments) {
      const st = await storage.stat(key(s.uri));
      assert.ok(st && st.size > 0, `${s.uri} stored`);
      bytes += st.size;
      const head = (await storage.get(key(s.uri)))!;
      assert.equal(head.toString('latin1', 4, 8), 'moof');
    }
    assert.equal(bytes, storeBytes, 'the stored segments hold every part byte');
    assert.deepEqual(await storage.get(key('source-i0.mp4')), fmp4.init);
    assert.deepEqual(await storage.get(key('source-i1.mp4')), fmp4b.init);

    // The announcement.
    assert.equal(cmd.calls.length, 1);
    const body = broadcastRecordedRequestSchema.parse(cmd.calls[0]);
    assert.equal(body.broadcastId, broadcastId);
    assert.equal(body.channelId, channelId);
    const extinfMs = vod.segments.reduce((n, s) => n + Math.round(s.duration * 1000), 0);
    assert.equal(body.durationMs, extinfMs);
    assert.ok(Math.abs(body.durationMs - 16_000) < 500, `duration ${body.durationMs}`);
    assert.equal(body.timeline.length, 2);
    const [run1, run2] = body.timeline;
    assert.deepEqual(run1, { offsetMs: 0, programDateTimeMs: T0, durationMs: vod.segments.slice(0, disc).reduce((n, s) => n + Math.round(s.duration * 1000), 0) });
    assert.equal(run2?.offsetMs, run1?.durationMs);
    assert.equal(run2?.programDateTimeMs, T0 + 60_000);
    assert.equal((run1?.durationMs ?? 0) + (run2?.durationMs ?? 0), body.durationMs);
    assert.equal(mediaOffsetAt(body.timeline, T0 + 60_000 + 1000), (run1?.durationMs ?? 0) + 1000);
    assert.equal(body.renditions.length, 1);
    assert.equal(body.renditions[0]?.segments, vod.segments.length);
    assert.equal(body.bytes, storeBytes + fmp4.init.length + fmp4b.init.length);
    assert.ok(body.renditions[0].bandwidth >= body.renditions[0].averageBandwidth);
    assert.equal(body.thumbnail, true);
    const jpeg = (await storage.get(key('thumbnail.jpg')))!;
    assert.deepEqual([jpeg[0], jpeg[1]], [0xff, 0xd8], 'a JPEG decoded from a middle segment');
    const manifest = recordingManifestSchema.parse(JSON.parse((await storage.get(key('manifest.json')))!.toString()));
    assert.ok(manifest.endedAt !== null);
    assert.deepEqual(manifest.renditions, [{ name: 'source', bandwidth: body.renditions[0].bandwidth }]);
    const finalIndex = HLS.parse((await storage.get(key('index.m3u8')))!.toString());
    assert.ok(finalIndex.isMasterPlaylist);
    assert.equal(finalIndex.variants[0]?.bandwidth, body.renditions[0].bandwidth);
    assert.equal(finalIndex.variants[0]?.averageBandwidth, body.renditions[0].averageBandwidth);
    assert.equal(recorder.activeCount(), 0);
    recorder.stop();
  });

  void it('records every rendition of a ladder: one media playlist each, all in index.m3u8 and the announcement', async () => {
    const storage = new LocalDiskStorage(path.join(dir, 'store5'));
    const store = newStore();
    const cmd = commands();
    const recorder = new Recorder({ store, storage, commands: cmd, log });
    recorder.start();
    const broadcastId = randomUUID();
    recorder.started({ channelId: randomUUID(), broadcastId, username: 'fay', record: true });
    const ch = store.open('fay');
    const low: RenditionDescriptor = { ...desc('low'), width: 160, height: 90, transcoded: true };
    ch.rendition('source').init(fmp4.init, desc('source'));
    ch.rendition('low').init(fmp4.init, low);
    for (const p of fmp4.parts.slice(0, 30)) {
      ch.rendition('source').part(p);
      // The low rendition's parts are smaller (its bandwidth is lower); the bytes are not decoded here.
      ch.rendition('low').part({ ...p, data: p.data.subarray(0, Math.ceil(p.data.length / 3)) });
    }
    store.close('fay', 60_000);
    await recorder.finished({ username: 'fay', broadcastId });
    const body = broadcastRecordedRequestSchema.parse(cmd.calls[0]);
    assert.deepEqual(body.renditions.map((r) => r.name), ['source', 'low']);
    assert.deepEqual(body.renditions.map((r) => [r.width, r.height]), [[320, 180], [160, 90]]);
    assert.ok(body.renditions[0]!.bandwidth > body.renditions[1]!.bandwidth);
    assert.equal(body.bytes, body.renditions[0]!.bytes + body.renditions[1]!.bytes);
    const mv = HLS.parse((await storage.get(recordingKey(broadcastId, 'index.m3u8')))!.toString());
    assert.ok(mv.isMasterPlaylist);
    assert.deepEqual(mv.variants.map((v) => [v.uri, v.bandwidth]), [['source.m3u8', body.renditions[0]!.bandwidth], ['low.m3u8', body.renditions[1]!.bandwidth]]);
    for (const name of ['source', 'low']) {
      const pl = media((await storage.get(recordingKey(broadcastId, `${name}.m3u8`)))!.toString());
      assert.equal(pl.endlist, true);
      assert.equal(pl.segments.length, body.renditions.find((r) => r.name === name)?.segments);
    }
    recorder.stop();
  });

  void it('finalizes a 1-hour recording within seconds of the end (facts in memory, nothing re-read)', async () => {
    const storage = new LocalDiskStorage(path.join(dir, 'store6'));
    const store = newStore();
    const cmd = commands();
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const recorder = new Recorder({ store, storage, commands: cmd, log, thumbnails: { thumbnail: () => ({ jpeg, at: Date.now() }) } });
    recorder.start();
    const broadcastId = randomUUID();
    recorder.started({ channelId: randomUUID(), broadcastId, username: 'gus', record: true });
    const r = store.open('gus').rendition('source');
    r.init(fmp4.init, desc('source'));
    // 3600 s of 0.2-s parts (small synthetic bytes: the recorder does not decode them), a keyframe every second.
    for (let n = 0; n < 18_000; n++) r.part({ data: Buffer.alloc(200, n % 251), durationSeconds: 0.2, independent: n % 5 === 0, programDateTimeMs: T0 + n * 200 });
    await waitUntil('every segment stored', () => (recorder.pendingBytes() === 0 ? true : undefined), 120_000);
    recorder.ended({ broadcastId, username: 'gus' });
    store.close('gus', 60_000);
    const t = Date.now();
    await recorder.finished({ username: 'gus', broadcastId });
    const ms = Date.now() - t;
    const body = broadcastRecordedRequestSchema.parse(cmd.calls[0]);
    assert.ok(ms < 5000, `finalized in ${ms} ms`);
    assert.ok(Math.abs(body.durationMs - 3_600_000) <= 200, `durationMs ${body.durationMs}`);
    assert.ok(body.renditions[0]!.segments >= 3599);
    assert.equal(body.thumbnail, true);
    assert.deepEqual(await storage.get(recordingKey(broadcastId, 'thumbnail.jpg')), jpeg, "the thumbnailer's latest picture");
    const vod = media((await storage.get(recordingKey(broadcastId, 'source.m3u8')))!.toString());
    assert.equal(vod.segments.length, body.renditions[0]!.segments);
    assert.equal(vod.endlist, true);
    recorder.stop();
  });

  void it('deletes the recording at the end when the channel keeps no VODs (record: false), and announces nothing', async () => {
    const storage = new LocalDiskStorage(path.join(dir, 'store2'));
    const store = newStore();
    const cmd = commands();
    const recorder = new Recorder({ store, storage, commands: cmd, log });
    recorder.start();
    const broadcastId = randomUUID();
    // Started before the store channel exists (the packager's first init still to come).
    recorder.started({ channelId: randomUUID(), broadcastId, username: 'bob', record: false });
    const r = store.open('bob').rendition('source');
    r.init(fmp4.init, desc('source'));
    for (const p of fmp4.parts.slice(0, 40)) r.part(p);
    await waitUntil('segments stored', () => storage.stat(recordingKey(broadcastId, 'source.m3u8')).then((s) => s ?? undefined));
    const manifest = recordingManifestSchema.parse(JSON.parse((await storage.get(recordingKey(broadcastId, 'manifest.json')))!.toString()));
    assert.equal(manifest.keep, false);
    store.close('bob', 60_000);
    await recorder.finished({ username: 'bob', broadcastId });
    assert.equal(await storage.usage(recordingPrefix(broadcastId)), 0);
    assert.equal(existsSync(path.join(dir, 'store2', 'recordings', broadcastId)), false);
    assert.equal(cmd.calls.length, 0);
    recorder.stop();
  });

  void it('drops the oldest pending segments when the storage is too slow, and lists only stored ones (bounded memory)', async () => {
    const disk = new LocalDiskStorage(path.join(dir, 'store3'));
    let gate: (() => void) | null = null;
    let blocked = true;
    // The same disk, but media segment writes wait until the test opens the gate (a stalled disk).
    const slow = Object.assign(Object.create(disk) as LocalDiskStorage, {
      put: async (key: string, data: Uint8Array) => {
        if (blocked && key.endsWith('.m4s')) await new Promise<void>((resolve) => (gate = resolve));
        return disk.put(key, data);
      },
    });
    const store = newStore();
    const cmd = commands();
    const segBytes = Math.ceil(fmp4.parts.reduce((n, p) => n + p.data.length, 0) / 12);
    const recorder = new Recorder({ store, storage: slow, commands: cmd, log, maxPendingBytes: 3 * segBytes });
    recorder.start();
    const broadcastId = randomUUID();
    recorder.started({ channelId: randomUUID(), broadcastId, username: 'carol', record: true });
    const r = store.open('carol').rendition('source');
    r.init(fmp4.init, desc('source'));
    for (const p of fmp4.parts.slice(0, 15)) r.part(p);
    await waitUntil('the first segment write stalled', () => (gate ? true : undefined));
    for (const p of fmp4.parts.slice(15)) r.part(p);
    assert.ok(recorder.pendingBytes() <= 5 * segBytes, `pending ${recorder.pendingBytes()} bounded`);
    store.close('carol', 60_000);
    blocked = false;
    (gate as (() => void) | null)?.();
    await recorder.finished({ username: 'carol', broadcastId });
    const vod = media((await disk.get(recordingKey(broadcastId, 'source.m3u8')))!.toString());
    assert.ok(vod.segments.length < r.lastCompleteMsn() + 1, 'some segments were dropped');
    assert.ok(vod.segments.length >= 3, `${vod.segments.length} segments: ${vod.segments.map((s) => s.uri).join(" ")}`);
    assert.equal(vod.segments[0]?.uri, 'source-0.m4s', 'the write in flight completes');
    assert.ok(vod.segments[1]?.discontinuity, 'a discontinuity at the gap');
    for (const s of vod.segments) assert.ok(await disk.stat(recordingKey(broadcastId, s.uri)), `${s.uri} exists`);
    const body = broadcastRecordedRequestSchema.parse(cmd.calls[0]);
    assert.equal(body.timeline.reduce((n, run) => n + run.durationMs, 0), body.durationMs);
    assert.ok(body.timeline.length >= 2);
    recorder.stop();
  });

  void it('finalizes a recording an earlier run left unfinished (manifest endedAt null) from its EVENT playlists', async () => {
    const storage = new LocalDiskStorage(path.join(dir, 'store4'));
    const store = newStore();
    const killed = new Recorder({ store, storage, commands: commands(), log });
    killed.start();
    const broadcastId = randomUUID();
    const channelId = randomUUID();
    killed.started({ channelId, broadcastId, username: 'dave', record: true });
    const r = store.open('dave').rendition('source');
    r.init(fmp4.init, desc('source'));
    for (const p of fmp4.parts) r.part(p);
    const closed = r.lastCompleteMsn() + 1;
    await waitUntil('EVENT playlist complete', async () => {
      const t = await storage.get(recordingKey(broadcastId, 'source.m3u8'));
      return t && media(t.toString()).segments.length === closed ? true : undefined;
    });
    await waitUntil('index', () => storage.stat(recordingKey(broadcastId, 'index.m3u8')).then((s) => s ?? undefined));
    killed.stop(); // "killed": never finished

    const cmd = commands();
    const recovering = new Recorder({ store: newStore(), storage, commands: cmd, log });
    assert.equal(await recovering.recover(), 1);
    const vod = media((await storage.get(recordingKey(broadcastId, 'source.m3u8')))!.toString());
    assert.equal(vod.playlistType, 'VOD');
    assert.equal(vod.endlist, true);
    assert.equal(vod.segments.length, closed);
    const body = broadcastRecordedRequestSchema.parse(cmd.calls[0]);
    assert.equal(body.channelId, channelId);
    assert.equal(body.durationMs, vod.segments.reduce((n, s) => n + Math.round(s.duration * 1000), 0));
    assert.deepEqual(body.timeline, [{ offsetMs: 0, programDateTimeMs: T0, durationMs: body.durationMs }]);
    assert.equal(body.renditions[0]?.codecs, 'avc1.64000d,mp4a.40.2');
    assert.equal(body.thumbnail, true);
    const manifest = recordingManifestSchema.parse(JSON.parse((await storage.get(recordingKey(broadcastId, 'manifest.json')))!.toString()));
    assert.ok(manifest.endedAt !== null);
    // Finalized once: a second start-up finds nothing to do.
    assert.equal(await new Recorder({ store: newStore(), storage, commands: cmd, log }).recover(), 0);
    assert.equal(cmd.calls.length, 1);
    // A recording this process started (live, endedAt null) is never "recovered".
    const store2 = newStore();
    const current = new Recorder({ store: store2, storage, commands: cmd, log });
    current.start();
    const liveId = randomUUID();
    current.started({ channelId, broadcastId: liveId, username: 'erin', record: true });
    const r2 = store2.open('erin').rendition('source');
    r2.init(fmp4.init, desc('source'));
    for (const p of fmp4.parts.slice(0, 20)) r2.part(p);
    await waitUntil('live manifest', () => storage.stat(recordingKey(liveId, 'manifest.json')).then((st) => st ?? undefined));
    assert.equal(await current.recover(), 0);
    assert.equal(cmd.calls.length, 1);
    current.stop();
  });
});
