/**
 * Recordings, VODs, chat replay and clips (issue 11) against real PostgreSQL and NATS JetStream: the VOD read model
 * from a broadcast with title changes (chapters) and BroadcastRecorded over a two-run timeline, the chat replay
 * (offsets through the timeline and its gap, a delete / clear / ban / timeout during the broadcast hiding at the right
 * offset, removals after the end and before visibility not served, paging covering every message once), the moderation
 * actions (owner, moderator, admin; a stranger refused), the activity strip, clips and their chat, deletion, the channel
 * view's DVR URL and recording flag, admin storage, parameter validation, and rebuild equality.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import type { ActivityStrip, ChannelView, ChatReplayMessage, ChatReplayPage, ClipList, ClipView, ReplayModerationList, StorageUsage, TimelineRun, VodDetail, VodList } from '@eventcast/contracts';
import { streams, type EventData, type EventType } from '@eventcast/events';
import { createTestDatabase, loadConfig, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi, type RunningQueryApi } from './bootstrap.js';
import { createProjections, createReadModelDb, ProjectionRebuilder, ClipsProjection, VodsProjection } from '@eventcast/read-models';
import { dumpReadModels, MEDIA, MemoryEventLog } from '@eventcast/read-models/testing';
import { createTestBus, rebuiltThreeWays, testConfig, testLogger, waitFor, type TestBus } from './testing/harness.js';

/** Wall clock of the memory log: the event at position p occurs at 12:00:00Z + p s; W(s) is that instant in ms. */
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const W = (s: number) => T0 + Math.round(s * 1000);
const isoW = (s: number) => new Date(W(s)).toISOString();

/** A two-run recording: media 0–100 s shows W(20)–W(120), a 20-s gap, media 100–300 s shows W(140)–W(340). */
const TIMELINE: TimelineRun[] = [
  { offsetMs: 0, programDateTimeMs: W(20), durationMs: 100_000 },
  { offsetMs: 100_000, programDateTimeMs: W(140), durationMs: 200_000 },
];
const RENDITIONS = [
  { name: '720p', codecs: 'avc1.64001f,mp4a.40.2', width: 1280, height: 720, frameRate: 30, bandwidth: 3_000_000, averageBandwidth: 2_600_000, segments: 150, bytes: 90_000_000 },
  { name: '360p', codecs: 'avc1.4d401e,mp4a.40.2', width: 640, height: 360, frameRate: 30, bandwidth: 900_000, averageBandwidth: 800_000, segments: 150, bytes: 30_000_000 },
];

void describe('recordings: VODs, chat replay, clips', () => {
  const log = new MemoryEventLog();
  const jwt = new JwtService({ secret: loadConfig({}).JWT_SECRET });
  let bus: TestBus;
  let db: TestDatabase;
  let api: RunningQueryApi;
  let base: string;
  let dir: string;
  let previousAdmins: string | undefined;

  const u = (username: string) => ({ id: randomUUID(), username });
  const alice = u('vod_alice');
  const bob = u('vod_bob');
  const carol = u('vod_carol');
  const dave = u('vod_dave');
  const eve = u('vod_eve');
  const frank = u('vod_frank');
  const gina = u('vod_gina');
  const harry = u('vod_harry');
  const stranger = u('vod_stranger');
  const admin = u('vod_root');
  const zed = u('vod_zed');
  const b1 = randomUUID();
  const b2 = randomUUID();
  const clipA = randomUUID();
  const clipB = randomUUID();
  const clipGone = randomUUID();
  const clipC = randomUUID();
  const room = { channelId: alice.id, username: alice.username };
  const msg: Record<string, string> = {};

  const add = <T extends EventType>(stream: string, type: T, data: EventData<T>) => log.append(stream, type, data);
  /** Appends filler (zed's latency mode) until the next event gets position `p`, i.e. occurs at W(p). */
  const padTo = (p: number) => {
    assert.ok(log.events.length < p, `position ${p} already passed`);
    while (log.events.length < p - 1) add(streams.account(zed.id), 'ChannelLatencyModeChanged', { channelId: zed.id, username: zed.username, latencyMode: log.events.length % 2 ? 'low' : 'smooth' });
  };
  /** A chat message sent at W(p) and visible `delay` s later. */
  const say = (p: number, key: string, who: { id: string; username: string }, opts: { delay?: number; role?: 'owner' | 'moderator' | 'viewer'; channel?: { id: string; username: string } } = {}) => {
    padTo(p);
    const channel = opts.channel ?? alice;
    msg[key] = randomUUID();
    add(streams.chat(channel.id), 'ChatMessageSent', {
      channelId: channel.id,
      username: channel.username,
      messageId: msg[key],
      senderId: who.id,
      senderName: who.username,
      senderRole: opts.role ?? (who.id === channel.id ? 'owner' : 'viewer'),
      text: `${key} from ${who.username}`,
      maskedTerms: 0,
      sentAt: isoW(p),
      visibleAt: isoW(p + (opts.delay ?? 0.5)),
    });
  };
  const mod = (m: { id: string; username: string }) => ({ ...room, moderatorId: m.id, moderatorName: m.username });
  const target = (t: { id: string; username: string }) => ({ userId: t.id, userName: t.username });

  const publishAll = async () => {
    for (const e of log.events.slice(published)) await bus.publish(e);
    published = log.events.length;
    const last = BigInt(published);
    await waitFor(async () => (await api.runner.position()) >= last, 20_000, `checkpoint ${last}`);
  };
  let published = 0;
  const get = async <T>(path: string, who?: { id: string; username: string }) => {
    const res = await fetch(`${base}${path}`, who ? { headers: { Authorization: `Bearer ${jwt.sign({ sub: who.id, username: who.username })}` } } : {});
    return { status: res.status, body: (await res.json()) as T, headers: res.headers };
  };

  void before(async () => {
    previousAdmins = process.env['EVENTCAST_ADMINS'];
    process.env['EVENTCAST_ADMINS'] = admin.username;
    dir = await mkdtemp(join(tmpdir(), 'qa-vod-'));
    bus = await createTestBus();
    db = await createTestDatabase('qa_test');
    api = await bootstrapQueryApi({ ...testConfig(db, bus, log), recordings: { dir, retentionDays: 14, budgetBytes: 5 * 2 ** 30 } }, testLogger());
    base = `http://127.0.0.1:${api.port}`;
  });
  void after(async () => {
    await api.close();
    await db.drop();
    await bus.close();
    await rm(dir, { recursive: true, force: true });
    if (previousAdmins === undefined) delete process.env['EVENTCAST_ADMINS'];
    else process.env['EVENTCAST_ADMINS'] = previousAdmins;
  });

  void test('while live: the channel view has the DVR URL of the recording and the recording flag', async () => {
    for (const a of [alice, bob, carol, dave, eve, frank, gina, harry, stranger, admin, zed]) {
      add(streams.account(a.id), 'AccountRegistered', { accountId: a.id, username: a.username, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' });
    }
    add(streams.account(alice.id), 'ChannelRecordingChanged', { channelId: alice.id, username: alice.username, enabled: false });
    add(streams.account(alice.id), 'ChannelInfoUpdated', { channelId: alice.id, username: alice.username, title: 'Title A', category: 'Games' });
    add(streams.chat(alice.id), 'ChatModeratorAdded', { ...mod(alice), ...target(bob) });
    await publishAll();
    let view = await get<ChannelView>(`/channels/${alice.username}`);
    assert.equal(view.body.recordingEnabled, false);
    assert.equal(view.body.dvrPlaybackUrl, null);

    add(streams.account(alice.id), 'ChannelRecordingChanged', { channelId: alice.id, username: alice.username, enabled: true });
    padTo(20);
    add(streams.broadcast(alice.id), 'BroadcastStarted', { broadcastId: b1, channelId: alice.id, username: alice.username, startedAt: isoW(20), media: MEDIA });
    await publishAll();
    view = await get<ChannelView>(`/channels/${alice.username}`);
    assert.equal(view.status, 200);
    assert.equal(view.body.recordingEnabled, true);
    assert.equal(view.body.dvrPlaybackUrl, `http://127.0.0.1:8000/vod/${b1}/index.m3u8`);
    const zedView = await get<ChannelView>(`/channels/${zed.username}`);
    assert.deepEqual([zedView.body.recordingEnabled, zedView.body.dvrPlaybackUrl], [true, null], 'default: recording on; offline: no DVR');
    // Not recorded yet: no VOD.
    assert.equal((await get(`/videos/${b1}`)).status, 404);
  });

  void test('a broadcast with chat and moderation becomes a VOD with chapters; the replay shows the chat as it was live', async () => {
    const audience = streams.audience(b1);
    add(audience, 'ViewerJoinedBroadcast', { broadcastId: b1, channelId: alice.id, viewerKey: `account:${carol.id}` });
    add(audience, 'ViewerJoinedBroadcast', { broadcastId: b1, channelId: alice.id, viewerKey: `account:${carol.id}` });
    add(audience, 'ViewerJoinedBroadcast', { broadcastId: b1, channelId: alice.id, viewerKey: 'guest:0123456789abcdef0123456789abcdef' });
    say(25, 'm1', carol);
    say(30, 'm2', bob, { role: 'moderator' });
    say(31, 'm3', alice);
    add(audience, 'BroadcastViewersSampled', { broadcastId: b1, channelId: alice.id, viewers: 9, chatters: 2, sampledAt: isoW(30), intervalSeconds: 15 });
    add(audience, 'BroadcastViewersSampled', { broadcastId: b1, channelId: alice.id, viewers: 4, chatters: 2, sampledAt: isoW(35), intervalSeconds: 15 });
    say(40, 'm4', dave);
    padTo(45);
    add(streams.account(alice.id), 'ChannelInfoUpdated', { channelId: alice.id, username: alice.username, title: 'Title B', category: 'Games' });
    add(streams.account(alice.id), 'ChannelInfoUpdated', { channelId: alice.id, username: alice.username, title: 'Title B', category: 'Games' });
    padTo(50);
    add(streams.chat(alice.id), 'ChatMessageDeleted', { ...mod(bob), messageId: msg['m4']!, senderId: dave.id, reason: 'spam' });
    say(60, 'm5', eve);
    say(65, 'm6', eve);
    padTo(70);
    add(streams.chat(alice.id), 'ChatUserBanned', { ...mod(bob), ...target(eve), reason: 'rude' });
    say(80, 'm7', frank);
    padTo(90);
    add(streams.chat(alice.id), 'ChatUserTimedOut', { ...mod(alice), ...target(frank), durationSeconds: 600, until: isoW(690), reason: '' });
    say(100, 'm8', carol);
    say(101, 'm9', dave);
    padTo(110);
    add(streams.chat(alice.id), 'ChatCleared', mod(alice));
    say(125, 'm10', carol, { delay: 0 }); // in the gap between the runs: shown at the start of the second run
    say(130, 'm11', gina, { delay: 6 }); // held by the message delay and deleted before anyone saw it
    padTo(132);
    add(streams.chat(alice.id), 'ChatMessageDeleted', { ...mod(bob), messageId: msg['m11']!, senderId: gina.id, reason: '' });
    say(150, 'm12', carol);
    say(151, 'z1', carol, { channel: zed }); // another channel's chat at the same time
    say(200, 'm13', dave); // deleted after the end
    say(210, 'm14', harry); // banned after the end
    padTo(220);
    add(audience, 'BroadcastViewersSampled', { broadcastId: b1, channelId: alice.id, viewers: 7, chatters: 1, sampledAt: isoW(220), intervalSeconds: 15 });
    say(300, 'm15', carol);
    say(341, 'm16', carol); // after the last picture (340), in the reconnect grace period: replayed at the end
    padTo(345);
    add(streams.broadcast(alice.id), 'BroadcastEnded', { broadcastId: b1, channelId: alice.id, username: alice.username, reason: 'unpublished', endedAt: isoW(345), durationMs: 325_000 });
    add(streams.broadcast(alice.id), 'BroadcastRecorded', {
      broadcastId: b1, channelId: alice.id, username: alice.username, durationMs: 300_000, bytes: 120_000_000, renditions: RENDITIONS, timeline: TIMELINE, thumbnail: true, recordedAt: isoW(346),
    });
    add(streams.account(alice.id), 'ChannelInfoUpdated', { channelId: alice.id, username: alice.username, title: 'Title C', category: 'Chatting' });
    padTo(400);
    add(streams.chat(alice.id), 'ChatMessageDeleted', { ...mod(bob), messageId: msg['m13']!, senderId: dave.id, reason: '' });
    add(streams.chat(alice.id), 'ChatUserBanned', { ...mod(bob), ...target(harry), reason: '' });
    // A timeout and a clear after the end (e.g. at the start of the next stream) do not reach back into the replay.
    add(streams.chat(alice.id), 'ChatUserTimedOut', { ...mod(alice), ...target(carol), durationSeconds: 60, until: isoW(460), reason: '' });
    add(streams.chat(alice.id), 'ChatCleared', mod(alice));
    await publishAll();

    const detail = await get<VodDetail>(`/videos/${b1}`);
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.body, {
      id: b1,
      channelId: alice.id,
      username: alice.username,
      title: 'Title A',
      category: 'Games',
      startedAt: isoW(20),
      endedAt: isoW(345),
      durationSeconds: 300,
      views: 2,
      thumbnailUrl: `http://127.0.0.1:8000/vod/${b1}/thumbnail.jpg`,
      playbackUrl: `http://127.0.0.1:8000/vod/${b1}/index.m3u8`,
      chapters: [
        { offsetSeconds: 0, title: 'Title A', category: 'Games' },
        { offsetSeconds: 25, title: 'Title B', category: 'Games' },
      ],
      renditions: RENDITIONS,
      timeline: TIMELINE,
    });

    const all: ChatReplayMessage[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: ChatReplayPage } = await get<ChatReplayPage>(`/videos/${b1}/chat?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 5);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 20);
    const expected: [string, number, number | null, string | null][] = [
      ['m1', 5.5, 90, 'cleared'],
      ['m2', 10.5, 90, 'cleared'],
      ['m3', 11.5, 90, 'cleared'],
      ['m4', 20.5, 30, 'deleted'],
      ['m5', 40.5, 50, 'banned'],
      ['m6', 45.5, 50, 'banned'],
      ['m7', 60.5, 70, 'timed_out'],
      ['m8', 80.5, 90, 'cleared'],
      ['m9', 81.5, 90, 'cleared'],
      ['m10', 100, null, null],
      ['m12', 110.5, null, null],
      ['m15', 260.5, null, null],
      ['m16', 300, null, null],
    ];
    assert.equal(pages, 3, 'twelve messages in pages of five');
    assert.deepEqual(
      all.map((m) => [Object.keys(msg).find((k) => msg[k] === m.id), m.offsetSeconds, m.hiddenAtOffsetSeconds, m.hiddenReason]),
      expected,
      'every served message exactly once, in media order, hidden when it left the chat live',
    );
    const byKey = (k: string) => all.find((m) => m.id === msg[k])!;
    assert.deepEqual([byKey('m2').senderRole, byKey('m2').badges], ['moderator', ['moderator']]);
    assert.deepEqual([byKey('m3').senderRole, byKey('m3').badges], ['owner', ['broadcaster']]);
    assert.deepEqual(byKey('m1').badges, []);
    assert.deepEqual({ ...byKey('m12'), id: undefined }, {
      id: undefined, senderId: carol.id, senderName: carol.username, senderRole: 'viewer', badges: [], text: `m12 from ${carol.username}`, visibleAt: isoW(150.5), offsetSeconds: 110.5, hiddenAtOffsetSeconds: null, hiddenReason: null,
    });

    // Seeking: `from` in media seconds; 100 is the start of the second run, which the gap's messages map to.
    const from100 = await get<ChatReplayPage>(`/videos/${b1}/chat?from=100`);
    assert.deepEqual(from100.body.items.map((m) => m.id), [msg['m10'], msg['m12'], msg['m15'], msg['m16']]);
    assert.equal(from100.body.nextCursor, null);
    const from101 = await get<ChatReplayPage>(`/videos/${b1}/chat?from=100.6&limit=1`);
    assert.deepEqual(from101.body.items.map((m) => m.id), [msg['m12']]);
    assert.notEqual(from101.body.nextCursor, null);

    const act = await get<ActivityStrip>(`/videos/${b1}/activity`);
    assert.deepEqual(act.body, {
      bucketSeconds: 60,
      buckets: [
        { offsetSeconds: 0, messages: 6, viewers: 9 },
        { offsetSeconds: 60, messages: 5, viewers: null },
        { offsetSeconds: 120, messages: 2, viewers: null },
        { offsetSeconds: 180, messages: 0, viewers: 7 },
        { offsetSeconds: 240, messages: 1, viewers: null },
      ],
    });
  });

  void test('moderation actions of the VOD: owner, moderators and admins only', async () => {
    const path = `/videos/${b1}/moderation`;
    assert.equal((await get(path)).status, 401);
    const refused = await get<{ code?: string }>(path, stranger);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'forbidden');
    for (const who of [alice, bob, admin]) {
      const r = await get<ReplayModerationList>(path, who);
      assert.equal(r.status, 200, who.username);
      assert.deepEqual(
        r.body.items.map((i) => [i.action, i.moderatorName, i.targetName, i.offsetSeconds]),
        [
          ['message_deleted', bob.username, dave.username, 30],
          ['user_banned', bob.username, eve.username, 50],
          ['user_timed_out', alice.username, frank.username, 70],
          ['chat_cleared', alice.username, null, 90],
          ['message_deleted', bob.username, gina.username, 100],
        ],
      );
    }
    assert.equal((await get(`/videos/${randomUUID()}/moderation`, alice)).status, 404);
  });

  void test('clips: listed newest first, their chat relative to the clip start, deleted clips gone', async () => {
    padTo(410);
    // Media 95–115 s of the VOD: 5 s of the first run (W(115)–W(120)), then 15 s of the second (W(140)–W(155)).
    add(streams.clip(clipA), 'ClipCreated', {
      clipId: clipA, channelId: alice.id, username: alice.username, broadcastId: b1, createdBy: carol.id, createdByName: carol.username, title: 'the gap',
      startOffsetMs: 95_000, durationMs: 20_000, startedAt: isoW(115), fromLive: false, bytes: 4_000_000,
    });
    add(streams.clip(clipB), 'ClipCreated', {
      clipId: clipB, channelId: alice.id, username: alice.username, broadcastId: b1, createdBy: bob.id, createdByName: bob.username, title: 'start',
      startOffsetMs: 0, durationMs: 12_000, startedAt: isoW(20), fromLive: true, bytes: 2_000_000,
    });
    add(streams.clip(clipGone), 'ClipCreated', {
      clipId: clipGone, channelId: alice.id, username: alice.username, broadcastId: b1, createdBy: bob.id, createdByName: bob.username, title: 'oops',
      startOffsetMs: 0, durationMs: 5_000, startedAt: isoW(20), fromLive: true, bytes: 1_000_000,
    });
    add(streams.clip(clipGone), 'ClipDeleted', { clipId: clipGone, channelId: alice.id, deletedBy: alice.id, reason: 'owner' });
    await publishAll();

    const one = await get<ClipView>(`/clips/${clipA}`);
    assert.deepEqual(one.body, {
      id: clipA, channelId: alice.id, username: alice.username, broadcastId: b1, title: 'the gap', createdBy: carol.id, createdByName: carol.username,
      createdAt: isoW(410), startSeconds: 95, durationSeconds: 20, fromLive: false,
      videoUrl: `http://127.0.0.1:8000/clips/${clipA}.mp4`, thumbnailUrl: `http://127.0.0.1:8000/clips/${clipA}.jpg`,
    });
    const gone = await get<{ code: string }>(`/clips/${clipGone}`);
    assert.deepEqual([gone.status, gone.body.code], [404, 'clip_not_found']);
    const list = await get<ClipList>(`/channels/${alice.username}/clips?limit=1`);
    assert.deepEqual(list.body.items.map((c) => c.id), [clipB]);
    const rest = await get<ClipList>(`/channels/${alice.username}/clips?limit=1&cursor=${list.body.nextCursor}`);
    assert.deepEqual([rest.body.items.map((c) => c.id), rest.body.nextCursor], [[clipA], null]);

    const chat = await get<ChatReplayPage>(`/clips/${clipA}/chat`);
    assert.deepEqual(chat.body.items.map((m) => [m.id, m.offsetSeconds, m.hiddenAtOffsetSeconds]), [
      [msg['m10'], 5, null],
      [msg['m12'], 15.5, null],
    ]);
    const startChat = await get<ChatReplayPage>(`/clips/${clipB}/chat`);
    assert.deepEqual(startChat.body.items.map((m) => [m.id, m.offsetSeconds, m.hiddenAtOffsetSeconds, m.hiddenReason]), [
      [msg['m1'], 5.5, null, null],
      [msg['m2'], 10.5, null, null],
      [msg['m3'], 11.5, null, null],
    ], 'cleared only after the clip: they stay for the whole clip');
  });

  void test('the VOD list pages newest first; a deleted recording is gone from the list and its page', async () => {
    padTo(420);
    add(streams.broadcast(alice.id), 'BroadcastStarted', { broadcastId: b2, channelId: alice.id, username: alice.username, startedAt: isoW(420), media: MEDIA });
    say(422, 'n1', carol);
    say(424, 'n2', dave);
    add(streams.broadcast(alice.id), 'BroadcastEnded', { broadcastId: b2, channelId: alice.id, username: alice.username, reason: 'unpublished', endedAt: isoW(430), durationMs: 10_000 });
    add(streams.broadcast(alice.id), 'BroadcastRecorded', {
      broadcastId: b2, channelId: alice.id, username: alice.username, durationMs: 9_000, bytes: 1_000, renditions: [RENDITIONS[0]!],
      timeline: [{ offsetMs: 0, programDateTimeMs: W(420.5), durationMs: 9_000 }], thumbnail: false, recordedAt: isoW(431),
    });
    await publishAll();
    const first = await get<VodList>(`/channels/${alice.username}/videos?limit=1`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.items.map((v) => [v.id, v.title, v.category, v.durationSeconds, v.thumbnailUrl]), [[b2, 'Title C', 'Chatting', 9, null]]);
    const second = await get<VodList>(`/channels/${alice.username}/videos?limit=1&cursor=${first.body.nextCursor}`);
    assert.deepEqual([second.body.items.map((v) => v.id), second.body.nextCursor], [[b1], null]);
    assert.deepEqual((await get<VodList>(`/channels/${zed.username}/videos`)).body, { items: [], nextCursor: null });

    add(streams.clip(clipC), 'ClipCreated', {
      clipId: clipC, channelId: alice.id, username: alice.username, broadcastId: b2, createdBy: carol.id, createdByName: carol.username, title: 'kept',
      startOffsetMs: 0, durationMs: 9_000, startedAt: isoW(420.5), fromLive: true, bytes: 3_000,
    });
    padTo(432);
    add(streams.chat(alice.id), 'ChatMessageDeleted', { ...mod(bob), messageId: msg['n2']!, senderId: dave.id, reason: '' }); // after b2's end
    add(streams.broadcast(alice.id), 'BroadcastRecordingDeleted', { broadcastId: b2, channelId: alice.id, reason: 'owner', deletedBy: alice.id, bytesFreed: 1_000 });
    await publishAll();
    // The clip outlives its recording: its chat still maps from its first frame; removals after b2's end still count.
    const kept = await get<ChatReplayPage>(`/clips/${clipC}/chat`);
    assert.deepEqual(kept.body.items.map((m) => [m.id, m.offsetSeconds]), [[msg['n1'], 2]]);
    const gone = await get<{ code: string }>(`/videos/${b2}`);
    assert.deepEqual([gone.status, gone.body.code], [404, 'video_not_found']);
    assert.equal((await get(`/videos/${b2}/chat`)).status, 404);
    assert.deepEqual((await get<VodList>(`/channels/${alice.username}/videos`)).body.items.map((v) => v.id), [b1]);
    const rows = await dumpReadModels(db.url);
    assert.ok(!rows.vods.some((v) => v.id === b2), 'the row is gone');
  });

  void test('read-your-writes and parameter validation', async () => {
    const pos = BigInt(log.events.length);
    const r = await get(`/videos/${b1}?minPosition=${pos}`);
    assert.equal(r.status, 200);
    assert.ok(BigInt(r.headers.get('eventcast-position') ?? '0') >= pos);
    for (const [path, status] of [
      ['/videos/not-a-uuid', 400],
      ['/videos/not-a-uuid/chat', 400],
      [`/videos/${b1}/chat?limit=0`, 400],
      [`/videos/${b1}/chat?limit=501`, 400],
      [`/videos/${b1}/chat?from=-1`, 400],
      [`/videos/${b1}/chat?from=abc`, 400],
      [`/videos/${b1}/chat?cursor=bm9wZQ`, 400],
      [`/videos/${b1}/chat?cursor=***`, 400],
      [`/videos/${b1}/activity?minPosition=x`, 400],
      ['/channels/NO!/videos', 400],
      [`/channels/${alice.username}/videos?limit=101`, 400],
      [`/channels/${alice.username}/clips?cursor=zz`, 400],
      ['/clips/123/chat', 400],
      ['/channels/vod_nobody/videos', 404],
      [`/videos/${randomUUID()}`, 404],
      [`/videos/${randomUUID()}/activity`, 404],
      [`/clips/${randomUUID()}/chat`, 404],
    ] as const) {
      const res = await get<{ message: string }>(path);
      assert.equal(res.status, status, path);
      assert.ok(res.body.message.length > 0, path);
    }
    assert.equal((await get(`/videos/${b1}/chat?limit=500&from=0.5`)).status, 200);
  });

  void test('admin storage: disk used under RECORDINGS_DIR, counts from the read models, retention and budget', async () => {
    await mkdir(join(dir, 'recordings', b1), { recursive: true });
    await writeFile(join(dir, 'recordings', b1, '720p-1.m4s'), Buffer.alloc(1500));
    await writeFile(join(dir, 'recordings', b1, 'index.m3u8'), Buffer.alloc(100));
    await mkdir(join(dir, 'clips'), { recursive: true });
    await writeFile(join(dir, 'clips', `${clipA}.mp4`), Buffer.alloc(700));
    assert.equal((await get('/admin/storage')).status, 401);
    assert.equal((await get('/admin/storage', alice)).status, 403);
    const r = await get<StorageUsage>('/admin/storage', admin);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { usedBytes: 2300, recordingsBytes: 1600, clipsBytes: 700, recordings: 1, clips: 3, retentionDays: 14, budgetBytes: 5 * 2 ** 30 });
  });

  void test('rebuilds equal the live read model (one event per transaction, one batch, a fresh catch-up, the rebuilder)', async () => {
    const dump = async (url: string) => {
      const d = await dumpReadModels(url);
      return { vods: d.vods, vodChannels: d.vodChannels, clips: d.clips, channels: d.channels.map((c) => ({ id: c.id, recording_enabled: c.recording_enabled })) };
    };
    const live = await dump(db.url);
    assert.ok(live.vods.length === 1 && live.clips.length === 3);
    const dbs: TestDatabase[] = [];
    try {
      const newDb = async () => {
        const d = await createTestDatabase('qa_test');
        dbs.push(d);
        return d;
      };
      for (const projection of [new VodsProjection(), new ClipsProjection()]) {
        const rebuilt = await rebuiltThreeWays({ projection, log, bus, catchUpBatchSize: 7 }, newDb, dump);
        const pick = (x: Awaited<ReturnType<typeof dump>>) => (projection.name === 'clips' ? x.clips : { vods: x.vods, vodChannels: x.vodChannels });
        for (const r of rebuilt) assert.deepEqual(pick(r), pick(live), projection.name);
        assert.deepEqual(rebuilt[2]!.channels, live.channels, 'recording_enabled');
      }
      const { root } = createReadModelDb(db.url, 2);
      try {
        const source = { readAll: log.readAll.bind(log), headPosition: () => Promise.resolve(BigInt(log.events.length)) };
        const v = await new ProjectionRebuilder(root, source, createProjections(), { databaseUrl: db.url }).verify(['vods', 'clips', 'channels'], { batchSize: 13 });
        assert.deepEqual(v.tablesCompared.filter((t) => t.differences > 0), []);
        assert.ok(v.equal);
        assert.ok(v.tables.includes('vods') && v.tables.includes('clips') && v.tables.includes('channels'));
      } finally {
        await root.destroy();
      }
    } finally {
      for (const d of dbs) await d.drop();
    }
  });
});
