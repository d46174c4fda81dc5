/**
 * `GET /metrics` of a real ingest process (real ffmpeg publisher, node-media-server and NATS; the command side is
 * the fake of the ingest tests): while a publish is live the active-broadcast and publisher gauges are 1 and the
 * received bytes of the channel grow; the packager start is counted; after the publisher stops, the broadcast
 * ends, the packager's exit is counted and the channel's series disappear.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CommandPatterns } from '@eventcast/events';
import { generateStreamKey, parseMetrics, sampleValue, type MetricFamily } from '@eventcast/platform';
import { publishTestStream, rawRequest, waitUntil } from './test-support/harness.js';
import { singleChannelHandlers, startIngestRun, testSubjectPrefix, type IngestRun } from './test-support/ingest-run.js';

const channelId = randomUUID();
const username = `m_${randomBytes(4).toString('hex')}`;
const key = generateStreamKey(channelId);
const prefix = testSubjectPrefix();

void describe('ingest /metrics (real ffmpeg, NMS and NATS)', { timeout: 60_000 }, () => {
  let run: IngestRun;
  before(async () => {
    run = await startIngestRun({ prefix, handlers: singleChannelHandlers({ key, channelId, username }), tmpPrefix: 'ingest-metrics-' });
  });
  after(() => run?.stop());

  const scrape = async (): Promise<MetricFamily[]> => {
    const r = await rawRequest(run.httpPort, '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return parseMetrics(r.body.toString());
  };

  void it('reports live broadcasts, publishers, received bytes and packager starts/exits', async () => {
    const idle = await scrape();
    assert.equal(sampleValue(idle, 'eventcast_app_info', { app: 'ingest' }), 1);
    assert.equal(sampleValue(idle, 'eventcast_ingest_active_broadcasts'), 0);
    assert.equal(sampleValue(idle, 'eventcast_ingest_packager_starts_total'), 0);

    const pub = publishTestStream(run.rtmpUrl(key), 6);
    await run.fake.waitFor(CommandPatterns.BroadcastStart);
    const live = await waitUntil('broadcast counted', async () => {
      const m = await scrape();
      return sampleValue(m, 'eventcast_ingest_active_broadcasts') === 1 ? m : undefined;
    });
    assert.equal(sampleValue(live, 'eventcast_ingest_publishers_connected'), 1);
    assert.equal(sampleValue(live, 'eventcast_ingest_packager_starts_total'), 1);
    const first = sampleValue(live, 'eventcast_ingest_received_bytes_total', { channel: username });
    assert.ok(first > 0, 'bytes received from the publisher');
    const later = await waitUntil('bytes grow', async () => {
      const m = await scrape();
      return sampleValue(m, 'eventcast_ingest_received_bytes_total', { channel: username }) > first ? m : undefined;
    });
    assert.ok(sampleValue(later, 'eventcast_ingest_received_bytes_total', { channel: username }) > first);

    assert.equal(await pub.exit, 0, pub.stderr());
    await run.fake.waitFor(CommandPatterns.BroadcastEnd);
    const ended = await waitUntil('broadcast over', async () => {
      const m = await scrape();
      return sampleValue(m, 'eventcast_ingest_active_broadcasts') === 0 && sampleValue(m, 'eventcast_ingest_packager_exits_total') >= 1 ? m : undefined;
    });
    assert.equal(sampleValue(ended, 'eventcast_ingest_publishers_connected'), 0);
    assert.ok(!ended.some((f) => f.samples.some((s) => s.labels['channel'] === username)), 'series of the ended channel are dropped');
    // The recording (issue 11): segments written, then finalized and announced.
    await run.fake.waitFor(CommandPatterns.BroadcastRecorded);
    const recorded = await waitUntil('recording finalized', async () => {
      const m = await scrape();
      return sampleValue(m, 'eventcast_ingest_recordings_finalized_total', { outcome: 'announced' }) === 1 ? m : undefined;
    });
    assert.ok(sampleValue(recorded, 'eventcast_ingest_recording_writes_total', { kind: 'segment', outcome: 'ok' }) >= 3);
    assert.ok(sampleValue(recorded, 'eventcast_ingest_recording_bytes_total') > 0);
    assert.equal(sampleValue(recorded, 'eventcast_ingest_recording_pending_bytes'), 0);
  });
});
