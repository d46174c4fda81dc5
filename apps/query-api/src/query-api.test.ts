/**
 * query-api against real PostgreSQL and NATS JetStream: projections, HTTP views, idempotent redelivery,
 * gap catch-up from the store, poison messages, and live-vs-rebuild equality.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { channelListSchema, channelViewSchema } from '@eventcast/contracts';
import type { RecordedEvent } from '@eventcast/events';
import type { TestDatabase } from '@eventcast/platform';
import type { RunningQueryApi } from './bootstrap.js';
import { THUMBNAIL_URL_PERIOD_MS, thumbnailUrl } from './channels/channels.service.js';
import { dumpReadModels as dump, end, MEDIA, register, setLatencyMode, start, updateInfo, MemoryEventLog } from '@eventcast/read-models/testing';
import { createTestBus, getJson, startApp, waitFor, type TestBus } from './testing/harness.js';

void describe('query-api', () => {
  const log = new MemoryEventLog();
  let bus: TestBus;
  let db: TestDatabase;
  let api: RunningQueryApi;
  let base: string;
  const cleanups: (() => Promise<void>)[] = [];

  /** Appends to the store and publishes to JetStream, like the command side's publisher. */
  const publish = async (...events: RecordedEvent[]) => {
    for (const e of events) await bus.publish(e);
  };
  const caughtUpTo = (pos: bigint) => waitFor(async () => (await api.runner.position()) >= pos, 10_000, `checkpoint ${pos}`);

  void before(async () => {
    bus = await createTestBus();
    ({ db, api, base } = await startApp(bus, log));
  });
  void after(async () => {
    for (const c of cleanups.reverse()) await c();
    await api.close();
    await db.drop();
    await bus.close();
  });

  void test('health, readiness and OpenAPI', async () => {
    assert.deepEqual(await getJson(`${base}/health`), { status: 200, body: { status: 'ok', role: 'leader' } });
    assert.deepEqual(await getJson(`${base}/ready`), { status: 200, body: { status: 'ready', role: 'leader' } });
    const docs = await getJson(`${base}/docs-json`);
    assert.equal(docs.status, 200);
    const paths = Object.keys((docs.body as { paths: Record<string, unknown> }).paths);
    for (const p of ['/channels/live', '/channels', '/channels/{username}', '/broadcasts/{id}', '/health', '/ready']) assert.ok(paths.includes(p), p);
    const res = await fetch(`${base}/channels`, { headers: { Origin: 'http://example.test' } });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  void test('register → info updated → broadcast started → ended, as seen over HTTP', async () => {
    const { channelId, event: registered } = register(log, 'alice');
    await publish(registered);
    await caughtUpTo(registered.globalPosition);
    let alice = await getJson(`${base}/channels/alice`);
    assert.deepEqual(alice, {
      status: 200,
      body: { id: channelId, username: 'alice', title: '', category: '', live: false, broadcast: null, playbackUrl: null, thumbnailUrl: null, latencyMode: 'low', dvrPlaybackUrl: null, recordingEnabled: true },
    });
    assert.ok(channelViewSchema.safeParse(alice.body).success, 'an offline view satisfies the contract');

    const info = updateInfo(log, channelId, 'alice', 'Speedrun practice', 'Games');
    const { broadcastId, event: started } = start(log, channelId, 'alice');
    await publish(info, started);
    await caughtUpTo(started.globalPosition);
    const before = Date.now();
    alice = await getJson(`${base}/channels/alice`);
    const live = await getJson(`${base}/channels/live`);
    const afterwards = Date.now();
    // The thumbnail URL's cache-buster is the 15-s period number at the time of the request.
    const thumbnailUrl = (alice.body as { thumbnailUrl: string }).thumbnailUrl;
    const period = /^http:\/\/127\.0\.0\.1:8000\/hls\/alice\/thumbnail\.jpg\?t=(\d+)$/.exec(thumbnailUrl)?.[1];
    assert.ok(period !== undefined, thumbnailUrl);
    assert.ok(Number(period) >= Math.floor(before / 15_000) && Number(period) <= Math.floor(afterwards / 15_000), thumbnailUrl);
    const liveView = {
      id: channelId,
      username: 'alice',
      title: 'Speedrun practice',
      category: 'Games',
      live: true,
      broadcast: { id: broadcastId, startedAt: (started.data as { startedAt: string }).startedAt, media: MEDIA },
      playbackUrl: 'http://127.0.0.1:8000/hls/alice/index.m3u8',
      thumbnailUrl,
      latencyMode: 'low',
      dvrPlaybackUrl: `http://127.0.0.1:8000/vod/${broadcastId}/index.m3u8`,
      recordingEnabled: true,
    };
    assert.deepEqual(alice, { status: 200, body: liveView });
    assert.ok(channelViewSchema.safeParse(alice.body).success, 'a live view satisfies the contract');
    const liveList = live.body as { channels: { thumbnailUrl: string }[] };
    assert.match(liveList.channels[0]?.thumbnailUrl ?? '', /\/hls\/alice\/thumbnail\.jpg\?t=\d+$/);
    assert.deepEqual(live, { status: 200, body: { channels: [{ ...liveView, thumbnailUrl: liveList.channels[0]?.thumbnailUrl }] } });
    assert.ok(channelListSchema.safeParse(live.body).success, 'the directory list satisfies the contract');
    assert.deepEqual(await getJson(`${base}/broadcasts/${broadcastId}`), {
      status: 200,
      body: { id: broadcastId, channelId, startedAt: (started.data as { startedAt: string }).startedAt, endedAt: null, endReason: null, media: MEDIA },
    });

    const { event: bobRegistered } = register(log, 'bob');
    const ended = end(log, channelId, 'alice', broadcastId);
    await publish(bobRegistered, ended);
    await caughtUpTo(ended.globalPosition);
    assert.deepEqual(await getJson(`${base}/channels/live`), { status: 200, body: { channels: [] } });
    const all = (await getJson(`${base}/channels`)).body as { channels: { username: string; live: boolean; playbackUrl: string | null; thumbnailUrl: string | null }[] };
    assert.deepEqual(
      all.channels.map((c) => [c.username, c.live, c.playbackUrl, c.thumbnailUrl]),
      [
        ['alice', false, null, null],
        ['bob', false, null, null],
      ],
    );
    assert.deepEqual(await getJson(`${base}/broadcasts/${broadcastId}`), {
      status: 200,
      body: {
        id: broadcastId,
        channelId,
        startedAt: (started.data as { startedAt: string }).startedAt,
        endedAt: (ended.data as { endedAt: string }).endedAt,
        endReason: 'unpublished',
        media: MEDIA,
      },
    });
  });

  void test('ChannelLatencyModeChanged sets the channel view’s latencyMode, live or not, without touching its info', async () => {
    const { channelId, event: registered } = register(log, 'lea');
    const info = updateInfo(log, channelId, 'lea', 'Chess', 'Games');
    const smooth = setLatencyMode(log, channelId, 'lea', 'smooth');
    await publish(registered, info, smooth);
    await caughtUpTo(smooth.globalPosition);
    const view = (await getJson(`${base}/channels/lea`)).body as Record<string, unknown>;
    assert.deepEqual([view['title'], view['category'], view['latencyMode']], ['Chess', 'Games', 'smooth']);
    const { broadcastId, event: started } = start(log, channelId, 'lea');
    await publish(started);
    await caughtUpTo(started.globalPosition);
    const live = (await getJson(`${base}/channels/live`)).body as { channels: { username: string; latencyMode: string; live: boolean }[] };
    assert.deepEqual(
      live.channels.filter((c) => c.username === 'lea').map((c) => [c.live, c.latencyMode]),
      [[true, 'smooth']],
    );
    const low = setLatencyMode(log, channelId, 'lea', 'low');
    const ended = end(log, channelId, 'lea', broadcastId);
    await publish(low, ended);
    await caughtUpTo(ended.globalPosition);
    const after = (await getJson(`${base}/channels/lea`)).body as Record<string, unknown>;
    assert.deepEqual([after['live'], after['latencyMode'], after['title']], [false, 'low', 'Chess']);
  });

  void test('a redelivered BroadcastStarted (same global position) is not applied twice', async () => {
    const { channelId, event: registered } = register(log, 'carol');
    const { broadcastId, event: started } = start(log, channelId, 'carol');
    const ended = end(log, channelId, 'carol', broadcastId);
    await publish(registered, started, ended);
    await caughtUpTo(ended.globalPosition);
    // New message id: JetStream does not de-duplicate it, so the projector really receives it again.
    await bus.publish(started, `${started.id}-redelivery`);
    const { event: marker } = register(log, 'carol_marker');
    await publish(marker);
    await caughtUpTo(marker.globalPosition);
    const carol = (await getJson(`${base}/channels/carol`)).body as { live: boolean; broadcast: unknown };
    assert.equal(carol.live, false);
    assert.equal(carol.broadcast, null);
    // Straight through the runner, too: nothing applied, everything skipped.
    assert.deepEqual(await api.runner.apply([started, ended]), { applied: 0, skipped: 2, position: marker.globalPosition });
  });

  void test('a gap in JetStream delivery is filled from the event store', async () => {
    const { channelId, event: registered } = register(log, 'dave');
    const info = updateInfo(log, channelId, 'dave', 'Only in the store', 'Music');
    const { event: started } = start(log, channelId, 'dave');
    await publish(registered); // `info` never reaches JetStream
    await publish(started);
    await caughtUpTo(started.globalPosition);
    const dave = (await getJson(`${base}/channels/dave`)).body as { title: string; category: string; live: boolean };
    assert.deepEqual([dave.title, dave.category, dave.live], ['Only in the store', 'Music', true]);
    assert.equal(info.globalPosition + 1n, started.globalPosition);
  });

  void test('an unparseable message is terminated and does not block later events', async () => {
    await bus.publishRaw('{"not":"an event"');
    await bus.publishRaw(JSON.stringify({ id: 'x', type: 'AccountRegistered' }));
    const { event } = register(log, 'erin');
    await publish(event);
    await caughtUpTo(event.globalPosition);
    assert.equal((await getJson(`${base}/channels/erin`)).status, 200);
  });

  void test('invalid username → 400, unknown → 404, bad broadcast id → 400, unknown → 404', async () => {
    assert.deepEqual(await getJson(`${base}/channels/a`), {
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: 'invalid username: username must be at least 3 characters' },
    });
    assert.equal((await getJson(`${base}/channels/no-dashes`)).status, 400);
    assert.deepEqual(await getJson(`${base}/channels/nobody_here`), {
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'channel "nobody_here" not found' },
    });
    assert.equal((await getJson(`${base}/channels/ALICE`)).status, 200);
    assert.equal((await getJson(`${base}/broadcasts/not-a-uuid`)).status, 400);
    const unknown = await getJson(`${base}/broadcasts/00000000-0000-4000-8000-000000000000`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(Object.keys(unknown.body as object).sort(), ['error', 'message', 'statusCode']);
    assert.equal((await getJson(`${base}/nope`)).status, 404);
  });

  void test('the live read model equals a fresh rebuild from the event store alone', async () => {
    // Fill a little more: a channel live at the end, one with two broadcasts.
    const { channelId, event: r } = register(log, 'frank');
    const b1 = start(log, channelId, 'frank');
    const e1 = end(log, channelId, 'frank', b1.broadcastId);
    const b2 = start(log, channelId, 'frank');
    await publish(r, b1.event, e1, b2.event);
    const head = log.events[log.events.length - 1]!.globalPosition;
    await caughtUpTo(head);

    const rebuilt = await startApp(bus, log);
    cleanups.push(async () => {
      await rebuilt.api.close();
      await rebuilt.db.drop();
    });
    assert.equal(await rebuilt.api.runner.position(), head);
    const live = await dump(db.url);
    assert.ok(live.channels.length >= 6 && live.broadcasts.length >= 4);
    assert.deepEqual(await dump(rebuilt.db.url), live);
    assert.deepEqual((await getJson(`${rebuilt.base}/channels`)).body, (await getJson(`${base}/channels`)).body);
  });
});

void describe('thumbnailUrl', () => {
  void test('the configured HLS base or the request host, the channel path, and the period number as cache-buster', () => {
    const t = 1_796_000_000_000;
    const n = Math.floor(t / THUMBNAIL_URL_PERIOD_MS);
    assert.equal(thumbnailUrl('', 'example.test', 'alice', t), `http://example.test:8000/hls/alice/thumbnail.jpg?t=${n}`);
    assert.equal(thumbnailUrl('https://cdn.example.test/live//', 'ignored', 'bob_1', t), `https://cdn.example.test/live/hls/bob_1/thumbnail.jpg?t=${n}`);
    // Stable within a period, new in the next.
    assert.equal(thumbnailUrl('', 'h', 'alice', n * THUMBNAIL_URL_PERIOD_MS + THUMBNAIL_URL_PERIOD_MS - 1), thumbnailUrl('', 'h', 'alice', n * THUMBNAIL_URL_PERIOD_MS));
    assert.notEqual(thumbnailUrl('', 'h', 'alice', (n + 1) * THUMBNAIL_URL_PERIOD_MS), thumbnailUrl('', 'h', 'alice', n * THUMBNAIL_URL_PERIOD_MS));
  });
});
