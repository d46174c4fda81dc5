/**
 * Stream-health read models and queries (issue 10 item 5) against real PostgreSQL and JetStream: samples and refusals
 * projected on the live path (latest per channel, an out-of-order sample and an older refusal ignored for "latest",
 * every sample kept in the series); the same rows rebuilt three ways; the owner's queries (401/403/404, only the live
 * broadcast's sample is "latest").
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import type { BroadcastHealthSeries, ChannelHealthResponse } from '@eventcast/contracts';
import { streams, type EventData } from '@eventcast/events';
import { createTestDatabase, loadConfig, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi, type RunningQueryApi } from './bootstrap.js';
import { createReadModelDb, StreamHealthProjection } from '@eventcast/read-models';
import { createTestBus, rebuiltThreeWays, testConfig, testLogger, waitFor, type TestBus } from './testing/harness.js';
import { MEDIA, MemoryEventLog } from '@eventcast/read-models/testing';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA';
const alice = { id: randomUUID(), username: 'sh_alice' };
const bob = { id: randomUUID(), username: 'sh_bob' };
const broadcastId = randomUUID();

const sample = (sampledAt: string, maxKey: number): EventData<'BroadcastHealthSampled'> => ({
  channelId: alice.id, broadcastId, sampledAt, intervalSeconds: 10, windowSeconds: 5, bitrateKbps: 1100, videoBitrateKbps: 1000,
  audioBitrateKbps: 100, fps: 30, keyframeIntervalSeconds: maxKey, maxKeyframeIntervalSeconds: maxKey, width: 640, height: 360,
  videoCodec: 'h264', audioCodec: 'aac', announcedVideoBitrateKbps: 1000, announcedFrameRate: 30,
  packager: { running: true, drops: 3, restarts: 0, mode: null },
  warnings: maxKey > 2.1 ? [{ code: 'keyframe_interval_high', measured: maxKey, limit: 2 }] : [],
});

/** Up to the live broadcast with samples and refusals; `end` then ends it. */
function scenario(log: MemoryEventLog): { end: () => void } {
  for (const u of [alice, bob]) log.append(streams.account(u.id), 'AccountRegistered', { accountId: u.id, username: u.username, passwordHash: HASH });
  const refusal = (reason: 'no_video' | 'unsupported_video_codec', refusedAt: string) =>
    log.append(streams.ingest(alice.id), 'PublishInputRefused', { channelId: alice.id, reason, videoCodec: reason === 'no_video' ? null : 'hevc', audioCodec: 'aac', refusedAt });
  refusal('unsupported_video_codec', '2026-12-07T11:59:00.000Z');
  refusal('no_video', '2026-12-07T11:58:00.000Z'); // older: not the last refusal
  const room = { channelId: alice.id, username: alice.username };
  log.append(streams.broadcast(alice.id), 'BroadcastStarted', { broadcastId, ...room, startedAt: '2026-12-07T12:00:00.000Z', media: MEDIA });
  log.append(streams.broadcastHealth(broadcastId), 'BroadcastHealthSampled', sample('2026-12-07T12:00:10.000Z', 2));
  log.append(streams.broadcastHealth(broadcastId), 'BroadcastHealthSampled', sample('2026-12-07T12:00:20.000Z', 4));
  log.append(streams.broadcastHealth(broadcastId), 'BroadcastHealthSampled', sample('2026-12-07T12:00:05.000Z', 8)); // late: series only
  return {
    end: () => {
      log.append(streams.broadcast(alice.id), 'BroadcastEnded', { broadcastId, ...room, reason: 'unpublished', endedAt: '2026-12-07T12:01:00.000Z', durationMs: 60_000 });
    },
  };
}

async function dump(url: string) {
  const { db, root } = createReadModelDb(url, 1);
  try {
    return {
      samples: await db.selectFrom('stream_health_samples').selectAll().orderBy('broadcast_id').orderBy('sampled_at').execute(),
      latest: await db.selectFrom('stream_health_latest').selectAll().orderBy('channel_id').execute(),
      refusals: await db.selectFrom('publish_refusals_latest').selectAll().orderBy('channel_id').execute(),
    };
  } finally {
    await root.destroy();
  }
}

void describe('stream health read models', () => {
  const log = new MemoryEventLog();
  const { end } = scenario(log);
  const jwt = new JwtService({ secret: loadConfig({}).JWT_SECRET });
  const token = (u: { id: string; username: string }) => jwt.sign({ sub: u.id, username: u.username });
  const dbs: TestDatabase[] = [];
  const newDb = async () => {
    const d = await createTestDatabase('qa_test');
    dbs.push(d);
    return d;
  };
  let liveLog: MemoryEventLog;
  let bus: TestBus;
  let api: RunningQueryApi;
  let liveDb: TestDatabase;
  let base: string;
  const get = (path: string, who?: { id: string; username: string }) => fetch(`${base}${path}`, who ? { headers: { Authorization: `Bearer ${token(who)}` } } : {});
  const publishAll = async () => {
    for (const e of log.events.slice(liveLog.events.length)) {
      liveLog.events.push(e);
      await bus.publish(e);
    }
    const head = log.events.at(-1)!.globalPosition;
    await waitFor(async () => (await api.runner.position()) >= head, 15_000, 'live projection');
  };

  void before(async () => {
    liveLog = new MemoryEventLog();
    bus = await createTestBus();
    liveDb = await newDb();
    api = await bootstrapQueryApi(testConfig(liveDb, bus, liveLog), testLogger());
    base = `http://127.0.0.1:${api.port}`;
    await publishAll();
  });
  void after(async () => {
    await api.close();
    await bus.close();
    for (const d of dbs) await d.drop();
  });

  void test('the owner reads the live broadcast’s latest sample and the last refused publish', async () => {
    const res = await get(`/analytics/channels/${alice.username}/health`, alice);
    assert.equal(res.status, 200);
    const h = (await res.json()) as ChannelHealthResponse;
    assert.equal(h.live, true);
    assert.equal(h.broadcastId, broadcastId);
    assert.equal(h.latest?.sampledAt, '2026-12-07T12:00:20.000Z', 'the newest sample, not the late one');
    assert.deepEqual(h.latest?.warnings, [{ code: 'keyframe_interval_high', measured: 4, limit: 2 }]);
    assert.equal(h.latest?.packager.drops, 3);
    assert.deepEqual(h.lastRefusal, { reason: 'unsupported_video_codec', videoCodec: 'hevc', audioCodec: 'aac', refusedAt: '2026-12-07T11:59:00.000Z' });

    const series = (await (await get(`/analytics/broadcasts/${broadcastId}/health`, alice)).json()) as BroadcastHealthSeries;
    assert.deepEqual(series.samples.map((s) => s.sampledAt), ['2026-12-07T12:00:05.000Z', '2026-12-07T12:00:10.000Z', '2026-12-07T12:00:20.000Z']);
  });

  void test('401 without a token, 403 for another user, 404 and 400 for unknown or malformed names', async () => {
    assert.equal((await get(`/analytics/channels/${alice.username}/health`)).status, 401);
    assert.equal((await get(`/analytics/channels/${alice.username}/health`, bob)).status, 403);
    assert.equal((await get(`/analytics/broadcasts/${broadcastId}/health`, bob)).status, 403);
    assert.equal((await get(`/analytics/channels/nobody_here/health`, bob)).status, 404);
    assert.equal((await get(`/analytics/broadcasts/${randomUUID()}/health`, alice)).status, 404);
    assert.equal((await get(`/analytics/broadcasts/not-a-uuid/health`, alice)).status, 400);
  });

  void test('the same rows rebuilt three ways; no latest sample once the broadcast ended', async () => {
    end();
    await publishAll();
    const live = await dump(liveDb.url);
    assert.equal(live.samples.length, 3);
    const [one, all, rebuilt] = await rebuiltThreeWays({ projection: new StreamHealthProjection(), log, bus, catchUpBatchSize: 2 }, newDb, dump);
    assert.deepEqual(one, live);
    assert.deepEqual(all, live);
    assert.deepEqual(rebuilt, live);
    const h = (await (await get(`/analytics/channels/${alice.username}/health`, alice)).json()) as ChannelHealthResponse;
    assert.deepEqual([h.live, h.broadcastId, h.latest], [false, null, null]);
    assert.equal(h.lastRefusal?.reason, 'unsupported_video_codec', 'the refusal stays readable');
  });
});
