/**
 * Analytics read models and HTTP queries against real PostgreSQL and JetStream: a broadcast over midnight with viewer
 * samples (gaps, a late and an out-of-order sample), unique viewers, chat and follows in and out of the broadcast;
 * exact rows; the same rows whatever the batch boundaries (one event per transaction, one batch, the live JetStream
 * path, a catch-up rebuild); then the HTTP rules: owner/admin/others, 401/403, bad ranges, CSV.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { streams, type EventData, type EventType } from '@eventcast/events';
import { createTestDatabase, loadConfig, type TestDatabase } from '@eventcast/platform';
import { csvField, toCsv } from './analytics/csv.js';
import { parseDayRange } from './analytics/range.js';
import { bootstrapQueryApi, type RunningQueryApi } from './bootstrap.js';
import { createReadModelDb, AnalyticsProjection, averageViewers } from '@eventcast/read-models';
import { createTestBus, rebuiltThreeWays, testConfig, testLogger, waitFor, type TestBus } from './testing/harness.js';
import { MEDIA, MemoryEventLog } from '@eventcast/read-models/testing';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA';
const alice = { id: randomUUID(), username: 'an_alice' };
const bob = { id: randomUUID(), username: 'an_bob' };
const carol = { id: randomUUID(), username: 'an_carol' };
const admin = { id: randomUUID(), username: 'an_admin' };
const broadcastId = randomUUID();
const guest = 'guest:0123456789abcdef0123456789abcdef';

/** The scenario, appended to `log`, each event with the `occurredAt` given (a broadcast over midnight UTC). */
function scenario(log: MemoryEventLog): void {
  let clock = '2026-11-22T23:00:00.000Z';
  const add = <T extends EventType>(stream: string, type: T, data: EventData<T>) => {
    const e = log.append(stream, type, data);
    e.occurredAt = new Date(clock);
    return e;
  };
  const at = (iso: string) => {
    clock = `2026-11-${iso}Z`;
  };
  for (const u of [alice, bob, carol, admin]) add(streams.account(u.id), 'AccountRegistered', { accountId: u.id, username: u.username, passwordHash: HASH });
  const room = { channelId: alice.id, username: alice.username };
  const msg = (sender: typeof bob, text: string) =>
    add(streams.chat(alice.id), 'ChatMessageSent', {
      ...room,
      messageId: randomUUID(),
      senderId: sender.id,
      senderName: sender.username,
      senderRole: 'viewer',
      text,
      maskedTerms: 0,
      sentAt: new Date(clock).toISOString(),
      visibleAt: new Date(clock).toISOString(),
    });
  const sample = (sampledAt: string, viewers: number, chatters = 0) =>
    add(streams.audience(broadcastId), 'BroadcastViewersSampled', { broadcastId, channelId: alice.id, viewers, chatters, sampledAt, intervalSeconds: 15 });
  const join = (viewerKey: string) => add(streams.audience(broadcastId), 'ViewerJoinedBroadcast', { broadcastId, channelId: alice.id, viewerKey });

  at('22T23:40:00.000');
  msg(bob, 'before the broadcast'); // a day message, no broadcast
  at('22T23:50:00.000');
  add(streams.broadcast(alice.id), 'BroadcastStarted', { broadcastId, ...room, startedAt: '2026-11-22T23:50:00.000Z', media: MEDIA });
  sample('2026-11-22T23:50:00.000Z', 10, 2);
  at('22T23:50:02.000');
  join(`account:${bob.id}`);
  join(guest);
  join(guest); // a repeat (the command side would not record it) counts once
  at('22T23:50:05.000');
  msg(bob, 'one');
  at('22T23:50:10.000');
  msg(carol, 'two');
  at('22T23:50:15.000');
  sample('2026-11-22T23:50:15.000Z', 20, 3);
  at('22T23:50:20.000');
  msg(bob, 'three');
  at('22T23:50:30.000');
  sample('2026-11-22T23:50:30.000Z', 30, 4);
  sample('2026-11-22T23:50:20.000Z', 99); // out of order: ignored
  at('22T23:50:40.000');
  add(streams.follows(alice.id), 'ChannelFollowed', { ...room, followerId: carol.id, followerName: carol.username });
  at('22T23:51:10.000');
  msg(bob, 'four');
  at('22T23:52:00.000');
  sample('2026-11-22T23:52:00.000Z', 5, 1); // after a gap > 2 × 15 s: the gap counts as 0 viewers
  join(`account:${carol.id}`);
  at('23T00:10:00.000');
  add(streams.broadcast(alice.id), 'BroadcastEnded', { broadcastId, ...room, reason: 'unpublished', endedAt: '2026-11-23T00:10:00.000Z', durationMs: 20 * 60_000 });
  at('23T00:10:10.000');
  sample('2026-11-23T00:10:10.000Z', 50); // after the end: ignored
  at('23T00:10:20.000');
  msg(bob, 'after');
  at('23T00:10:30.000');
  add(streams.follows(alice.id), 'ChannelFollowed', { ...room, followerId: bob.id, followerName: bob.username });
}

/** Every analytics table, sorted by key, plus the analytics checkpoint. */
async function dumpAnalytics(url: string) {
  const { db, root } = createReadModelDb(url, 1);
  try {
    return {
      broadcasts: await db.selectFrom('analytics_broadcasts').selectAll().orderBy('broadcast_id').execute(),
      samples: await db.selectFrom('analytics_broadcast_samples').selectAll().orderBy('broadcast_id').orderBy('sampled_at').execute(),
      minutes: await db.selectFrom('analytics_broadcast_minutes').selectAll().orderBy('broadcast_id').orderBy('minute').execute(),
      chatters: await db.selectFrom('analytics_broadcast_chatters').selectAll().orderBy('broadcast_id').orderBy('sender_id').execute(),
      viewers: await db.selectFrom('analytics_broadcast_viewers').selectAll().orderBy('broadcast_id').orderBy('viewer_key').execute(),
      days: await db
        .selectFrom('analytics_channel_days')
        .select((eb) => [
          'channel_id',
          eb.fn<string>('to_char', ['day', eb.val('YYYY-MM-DD')]).as('day'),
          'broadcasts',
          'live_ms',
          'peak_viewers',
          'unique_viewers',
          'messages',
          'new_followers',
        ])
        .orderBy('channel_id')
        .orderBy('day')
        .execute(),
      dayViewers: (await db.selectFrom('analytics_channel_day_viewers').select(['channel_id', 'viewer_key']).orderBy('channel_id').orderBy('viewer_key').execute()).length,
      checkpoint: (await db.selectFrom('projection_checkpoints').select('position').where('name', '=', 'analytics').executeTakeFirst())?.position,
    };
  } finally {
    await root.destroy();
  }
}

void describe('analytics', () => {
  const log = new MemoryEventLog();
  scenario(log);
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

  void before(async () => {
    process.env['EVENTCAST_ADMINS'] = `someone_else, ${admin.username.toUpperCase()}`;
    // The live path: an app on an empty log, then every event appended and published on JetStream.
    liveLog = new MemoryEventLog();
    bus = await createTestBus();
    liveDb = await newDb();
    api = await bootstrapQueryApi(testConfig(liveDb, bus, liveLog), testLogger());
    base = `http://127.0.0.1:${api.port}`;
    for (const e of log.events) {
      liveLog.events.push(e);
      await bus.publish(e);
    }
    const head = log.events.at(-1)!.globalPosition;
    await waitFor(async () => (await api.runner.position()) >= head, 15_000, 'live projection');
  });
  void after(async () => {
    await api.close();
    await bus.close();
    for (const d of dbs) await d.drop();
  });

  void test('given the events, the broadcast and day rows are exact', async () => {
    const d = await dumpAnalytics(liveDb.url);
    assert.equal(d.broadcasts.length, 1);
    const b = d.broadcasts[0]!;
    // 10 viewers × 15 s + 20 × 15 s + 30 × 30 s (held 2 × 15 s, then a gap) + 5 × 30 s = 1500 viewer-seconds over 1200 s.
    assert.equal(Number(b.viewer_ms), 1_500_000);
    assert.equal(b.avg_viewers, 1.25);
    assert.equal(b.peak_viewers, 30);
    assert.equal(b.peak_at?.toISOString(), '2026-11-22T23:50:30.000Z');
    assert.equal(b.samples, 4);
    assert.equal(b.unique_viewers, 3);
    assert.equal(b.messages, 4, 'messages between start and end only');
    assert.equal(b.new_followers, 1);
    assert.equal(b.ended_at?.toISOString(), '2026-11-23T00:10:00.000Z');
    assert.equal(Number(b.duration_ms), 1_200_000);
    assert.deepEqual(
      d.chatters.map((c) => [c.sender_name, c.messages]).sort(),
      [
        ['an_bob', 3],
        ['an_carol', 1],
      ],
    );
    assert.deepEqual(
      d.minutes.map((m) => [m.minute.toISOString(), m.messages]),
      [
        ['2026-11-22T23:50:00.000Z', 3],
        ['2026-11-22T23:51:00.000Z', 1],
      ],
    );
    assert.deepEqual(
      d.days.map((x) => [x.day, x.broadcasts, Number(x.live_ms), x.peak_viewers, x.unique_viewers, x.messages, x.new_followers]),
      [
        ['2026-11-22', 1, 600_000, 30, 3, 5, 1],
        ['2026-11-23', 0, 600_000, 0, 0, 1, 1],
      ],
    );
    assert.equal(d.samples.length, 4);
  });

  void test('the same rows one event per transaction, in one batch, live from JetStream and rebuilt by catch-up', async () => {
    const live = await dumpAnalytics(liveDb.url);
    const [one, all, rebuilt] = await rebuiltThreeWays({ projection: new AnalyticsProjection(), log, bus, catchUpBatchSize: 4 }, newDb, dumpAnalytics);
    assert.deepEqual(one, live);
    assert.deepEqual(all, live);
    assert.deepEqual(rebuilt, live);
  });

  void test('401 without a token, 403 for another user, 200 for the owner and an admin', async () => {
    const noToken = await get(`/analytics/channels/${alice.username}`);
    assert.equal(noToken.status, 401);
    assert.match(((await noToken.json()) as { message: string }).message, /bearer token/);
    const other = await get(`/analytics/channels/${alice.username}`, bob);
    assert.equal(other.status, 403);
    assert.match(((await other.json()) as { message: string }).message, /owner or a platform admin/);
    assert.equal((await get(`/analytics/broadcasts/${broadcastId}`, bob)).status, 403);
    for (const who of [alice, admin]) {
      const res = await get(`/analytics/channels/${alice.username}`, who);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { channel: { id: string }; totals: Record<string, number>; broadcasts: { broadcastId: string; averageViewers: number; uniqueViewers: number; messagesPerMinute: number }[] };
      assert.equal(body.channel.id, alice.id);
      assert.deepEqual(body.totals, { broadcasts: 1, minutesLive: 20, peakViewers: 30, messages: 6, newFollowers: 2 });
      assert.equal(body.broadcasts[0]?.broadcastId, broadcastId);
      assert.equal(body.broadcasts[0]?.averageViewers, 1.25);
      assert.equal(body.broadcasts[0]?.uniqueViewers, 3);
      assert.equal(body.broadcasts[0]?.messagesPerMinute, 0.2);
    }
    assert.equal((await get('/analytics/channels/nobody_here', admin)).status, 404);
    assert.equal((await get('/analytics/channels/BAD!', admin)).status, 400);
    assert.equal((await get('/analytics/summary', alice)).status, 403, 'the summary is for admins only');
  });

  void test('broadcast detail: viewers over time, messages per minute with zeros, top chatters', async () => {
    const res = await get(`/analytics/broadcasts/${broadcastId}`, alice);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { viewers: { at: string; viewers: number }[]; messagesPerMinute: { minute: string; messages: number }[]; topChatters: { username: string; messages: number }[] };
    assert.deepEqual(
      body.viewers.map((v) => v.viewers),
      [10, 20, 30, 5],
    );
    assert.deepEqual(body.topChatters, [
      { userId: bob.id, username: 'an_bob', messages: 3 },
      { userId: carol.id, username: 'an_carol', messages: 1 },
    ]);
    assert.deepEqual(body.messagesPerMinute.slice(0, 3), [
      { minute: '2026-11-22T23:50:00.000Z', messages: 3 },
      { minute: '2026-11-22T23:51:00.000Z', messages: 1 },
      { minute: '2026-11-22T23:52:00.000Z', messages: 0 },
    ]);
    assert.equal(body.messagesPerMinute.length, 21, 'every minute from 23:50 to 00:10');
    assert.equal((await get('/analytics/broadcasts/not-a-uuid', alice)).status, 400);
    assert.equal((await get(`/analytics/broadcasts/${randomUUID()}`, alice)).status, 404);
  });

  void test('daily series over a range with zero days; 400 on bad ranges', async () => {
    const res = await get(`/analytics/channels/${alice.username}/daily?from=2026-11-21&to=2026-11-24`, alice);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { days: { day: string; minutesLive: number; messages: number; uniqueViewers: number }[] };
    assert.deepEqual(
      body.days.map((d) => [d.day, d.minutesLive, d.messages, d.uniqueViewers]),
      [
        ['2026-11-21', 0, 0, 0],
        ['2026-11-22', 10, 5, 3],
        ['2026-11-23', 10, 1, 0],
        ['2026-11-24', 0, 0, 0],
      ],
    );
    for (const q of ['from=2026-11-24&to=2026-11-21', 'from=2026-02-30&to=2026-03-01', 'from=2025-01-01&to=2026-11-22', 'from=yesterday', 'to=2026-1-1']) {
      const bad = await get(`/analytics/channels/${alice.username}/daily?${q}`, alice);
      assert.equal(bad.status, 400, q);
      assert.ok(((await bad.json()) as { message: string }).message.length > 0);
    }
    assert.throws(() => parseDayRange('2026-11-24', '2026-11-21'), /from must not be after to/);
    assert.deepEqual(parseDayRange(undefined, undefined, Date.parse('2026-11-22T10:00:00Z')), { from: '2026-10-24', to: '2026-11-22' });
  });

  void test('admin summary: totals, days and channels over the range', async () => {
    const res = await get('/analytics/summary?from=2026-11-22&to=2026-11-23', admin);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { totals: Record<string, number>; channels: { username: string; minutesLive: number }[]; days: unknown[] };
    assert.deepEqual(body.totals, { broadcasts: 1, minutesLive: 20, peakViewers: 30, messages: 6, newFollowers: 2 });
    assert.deepEqual(body.channels.map((c) => [c.username, c.minutesLive]), [['an_alice', 20]]);
    assert.equal(body.days.length, 2);
    assert.equal((await get('/analytics/summary?from=2026-11-23&to=2026-11-22', admin)).status, 400);
  });

  void test('CSV exports: text/csv attachments with a header row', async () => {
    const res = await get(`/analytics/channels/${alice.username}/broadcasts.csv`, alice);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="an_alice-broadcasts.csv"');
    const lines = (await res.text()).split('\r\n');
    assert.equal(lines[0], 'broadcast_id,channel,started_at,ended_at,duration_seconds,peak_viewers,average_viewers,unique_viewers,messages,messages_per_minute,new_followers');
    assert.equal(lines[1], `${broadcastId},an_alice,2026-11-22T23:50:00.000Z,2026-11-23T00:10:00.000Z,1200,30,1.25,3,4,0.2,1`);
    assert.equal(lines[2], '');
    const daily = await get(`/analytics/channels/${alice.username}/daily.csv?from=2026-11-22&to=2026-11-23`, admin);
    assert.equal(daily.status, 200);
    assert.equal(daily.headers.get('content-disposition'), 'attachment; filename="an_alice-daily-2026-11-22-2026-11-23.csv"');
    assert.equal(await daily.text(), 'day,broadcasts,minutes_live,peak_viewers,unique_viewers,messages,new_followers\r\n2026-11-22,1,10,30,3,5,1\r\n2026-11-23,0,10,0,0,1,1\r\n');
    assert.equal((await get(`/analytics/channels/${alice.username}/daily.csv?from=x`, alice)).status, 400);
    assert.equal((await get(`/analytics/channels/${alice.username}/broadcasts.csv`, bob)).status, 403);
    assert.equal((await get(`/analytics/channels/${alice.username}/broadcasts.csv`)).status, 401);
  });

  void test('average viewers: over the closed segments, to the end or (while live) to the last sample', () => {
    const t0 = Date.parse('2026-11-22T12:00:00Z');
    assert.equal(averageViewers({ viewerMs: 0, firstSampleAt: null, lastSampleAt: null, endedAt: null, lastSampleViewers: 0 }), 0);
    assert.equal(averageViewers({ viewerMs: 0, firstSampleAt: t0, lastSampleAt: t0, endedAt: null, lastSampleViewers: 7 }), 7, 'one sample while live');
    assert.equal(averageViewers({ viewerMs: 10 * 15_000, firstSampleAt: t0, lastSampleAt: t0 + 15_000, endedAt: null, lastSampleViewers: 30 }), 10);
    assert.equal(averageViewers({ viewerMs: 10 * 15_000 + 30 * 30_000, firstSampleAt: t0, lastSampleAt: t0 + 15_000, endedAt: t0 + 60_000, lastSampleViewers: 30 }), 17.5);
  });

  void test('CSV quoting (RFC 4180) and formula neutralising', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('=SUM(A1)'), "'=SUM(A1)");
    assert.equal(csvField(null), '');
    assert.equal(csvField(-3), '-3');
    assert.equal(toCsv([{ header: 'x', value: (r: { x: string }) => r.x }], [{ x: 'a"b' }]), 'x\r\n"a""b"\r\n');
  });
});
