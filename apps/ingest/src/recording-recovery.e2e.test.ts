/**
 * Crash recovery of recordings (issue 11): an ingest killed (SIGKILL) during a broadcast leaves its recording with
 * `manifest.json` `endedAt: null`; the next ingest on the same RECORDINGS_DIR finalizes it from the stored EVENT
 * playlists once the command side answered `ingest.node-started`, announces `ingest.broadcast-recorded` and serves
 * the VOD. Real ffmpeg, node-media-server and NATS (NATS_URL), the fake command side.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import HLS from 'hls-parser';
import { broadcastRecordedRequestSchema, recordingManifestSchema } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';
import { generateStreamKey } from '@eventcast/platform';
import { publishTestStream, rawRequest, waitUntil } from './test-support/harness.js';
import { singleChannelHandlers, startIngestRun, testSubjectPrefix, type IngestRun } from './test-support/ingest-run.js';

const channelId = randomUUID();
const username = `u_${randomBytes(4).toString('hex')}`;
const key = generateStreamKey(channelId);

void describe('recording crash recovery (real ffmpeg, NMS and NATS)', { timeout: 120_000 }, () => {
  const runs: IngestRun[] = [];
  let recordingsDir = '';
  after(async () => {
    for (const r of runs) await r.stop();
    if (recordingsDir) await rm(recordingsDir, { recursive: true, force: true });
  });

  void it('finalizes and announces the recording of a broadcast whose ingest was killed', async () => {
    recordingsDir = await mkdtemp(path.join(tmpdir(), 'ingest-recovery-rec-'));
    const prefix = testSubjectPrefix();
    const first = await startIngestRun({ prefix, handlers: singleChannelHandlers({ key, channelId, username }), tmpPrefix: 'ingest-recovery-', recordingsDir });
    runs.push(first);
    const pub = publishTestStream(first.rtmpUrl(key), 30);
    const start = await first.fake.waitFor(CommandPatterns.BroadcastStart);
    const broadcastId = String(start.data['broadcastId']);
    await waitUntil('4 segments recorded', async () => {
      const r = await rawRequest(first.httpPort, `/vod/${broadcastId}/source.m3u8`);
      return r.status === 200 && (r.body.toString().match(/#EXTINF/g) ?? []).length >= 4 ? true : undefined;
    }, 30_000);
    first.ingest.child.kill('SIGKILL');
    await first.ingest.stop();
    pub.child.kill('SIGKILL');
    const manifestFile = path.join(recordingsDir, 'recordings', broadcastId, 'manifest.json');
    assert.equal(recordingManifestSchema.parse(JSON.parse(await readFile(manifestFile, 'utf8'))).endedAt, null);
    assert.equal(first.fake.calls.filter((c) => c.pattern === CommandPatterns.BroadcastRecorded).length, 0);
    await first.fake.close();

    const second = await startIngestRun({ prefix: testSubjectPrefix(), handlers: singleChannelHandlers({ key, channelId, username }), tmpPrefix: 'ingest-recovery-', recordingsDir });
    runs.push(second);
    const recorded = await second.fake.waitFor(CommandPatterns.BroadcastRecorded, (c) => c.data['broadcastId'] === broadcastId, 15_000);
    const body = broadcastRecordedRequestSchema.parse(recorded.data);
    assert.equal(body.channelId, channelId);
    assert.ok(body.durationMs >= 3000, `durationMs ${body.durationMs}`);
    assert.equal(body.timeline.reduce((n, r) => n + r.durationMs, 0), body.durationMs);
    const pl = await rawRequest(second.httpPort, `/vod/${broadcastId}/source.m3u8`);
    assert.equal(pl.status, 200);
    const parsed = HLS.parse(pl.body.toString());
    assert.ok(!parsed.isMasterPlaylist);
    assert.equal(parsed.playlistType, 'VOD');
    assert.equal(parsed.endlist, true);
    assert.equal(parsed.segments.length, body.renditions[0]?.segments);
    for (const seg of parsed.segments) assert.equal((await rawRequest(second.httpPort, `/vod/${broadcastId}/${seg.uri}`)).status, 200, seg.uri);
    assert.ok(recordingManifestSchema.parse(JSON.parse(await readFile(manifestFile, 'utf8'))).endedAt !== null);
    assert.equal(second.fake.calls.filter((c) => c.pattern === CommandPatterns.BroadcastRecorded).length, 1);
  });
});
