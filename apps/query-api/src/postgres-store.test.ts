/**
 * With the real PostgresEventStore: events appended to the store and published to JetStream build the read model
 * live; a second app on a fresh read database, opening the store through the factory, rebuilds the same rows.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PostgresEventStore } from '@eventcast/event-store';
import { newEvent, streams, type NewEvent } from '@eventcast/events';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi } from './bootstrap.js';
import { chatRoom, ids as chatIds, user, dumpReadModels as dump, MEDIA } from '@eventcast/read-models/testing';
import { createTestBus, getJson, testConfig, testLogger, waitFor, type TestBus } from './testing/harness.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';

void describe('query-api with PostgresEventStore', () => {
  let storeDb: TestDatabase;
  let store: PostgresEventStore;
  let bus: TestBus;
  const dbs: TestDatabase[] = [];

  void before(async () => {
    storeDb = await createTestDatabase('qa_store');
    store = new PostgresEventStore({ connectionString: storeDb.url });
    await store.migrate();
    bus = await createTestBus();
  });
  void after(async () => {
    await store.close();
    await bus.close();
    for (const d of dbs) await d.drop();
    await storeDb.drop();
  });

  /** Appends to the store, then publishes what was recorded (as the command side's publisher does). */
  async function appendAndPublish(stream: string, events: NewEvent[]): Promise<bigint> {
    const before = await store.headPosition();
    const { lastGlobalPosition } = await store.append(stream, events, 'any');
    for (const e of await store.readAll({ after: before })) await bus.publish(e);
    return lastGlobalPosition;
  }

  void test('live read model equals a rebuild from the store alone', async () => {
    const liveDb = await createTestDatabase('qa_test');
    dbs.push(liveDb);
    const live = await bootstrapQueryApi(testConfig(liveDb, bus, store), testLogger());
    try {
      const ids = [randomUUID(), randomUUID()];
      const names = ['grace', 'heidi'];
      let head = 0n;
      for (const [i, id] of ids.entries()) {
        head = await appendAndPublish(streams.account(id), [
          newEvent('AccountRegistered', { accountId: id, username: names[i]!, passwordHash: HASH }),
          newEvent('ChannelInfoUpdated', { channelId: id, username: names[i]!, title: `Title ${i}`, category: 'Art' }),
        ]);
      }
      const broadcastId = randomUUID();
      const startedAt = new Date().toISOString();
      head = await appendAndPublish(streams.broadcast(ids[0]!), [
        newEvent('BroadcastStarted', { broadcastId, channelId: ids[0]!, username: 'grace', startedAt, media: MEDIA }),
      ]);
      // Chat and follows on grace's channel: sends, a delete, a clear, moderation, emotes (bytea), follows.
      const grace = { id: ids[0]!, username: 'grace' };
      const heidi = { id: ids[1]!, username: 'heidi' };
      const ivan = user('ivan');
      const room = chatRoom(grace);
      const hello = room.message(heidi, 'hello grace');
      await appendAndPublish(streams.account(ivan.id), [newEvent('AccountRegistered', { accountId: ivan.id, username: 'ivan', passwordHash: HASH })]);
      await appendAndPublish(streams.chat(grace.id), [
        room.settings(grace, { messageDelaySeconds: 2 }),
        room.moderatorAdded(heidi),
        room.blockedTerms(heidi, ['nope'], 'refuse'),
        room.emoteAdded('GraceHi'),
        hello,
        room.message(ivan, 'first'),
        room.deleted(heidi, chatIds(hello).messageId, heidi.id, 'test'),
        room.cleared(grace),
        room.message(ivan, 'after the clear'),
        room.refused(ivan),
        room.timedOut(heidi, ivan, 60),
        room.banned(grace, ivan, 'bye'),
        room.unbanned(grace, ivan),
      ]);
      head = await appendAndPublish(streams.follows(grace.id), [room.followed(heidi), room.followed(ivan), room.unfollowed(ivan)]);
      // Stream health: two samples of grace's live broadcast (series and latest) and a refused publish of heidi's.
      const health = (sampledAt: string) =>
        newEvent('BroadcastHealthSampled', {
          channelId: grace.id, broadcastId, sampledAt, intervalSeconds: 10, windowSeconds: 5, bitrateKbps: 1100, videoBitrateKbps: 1000,
          audioBitrateKbps: 100, fps: 30, keyframeIntervalSeconds: 2, maxKeyframeIntervalSeconds: 2, width: 640, height: 360,
          videoCodec: 'h264', audioCodec: 'aac', announcedVideoBitrateKbps: 1000, announcedFrameRate: 30,
          packager: { running: true, drops: 0, restarts: 0, mode: 'passthrough' }, warnings: [],
        });
      await appendAndPublish(streams.broadcastHealth(broadcastId), [health(new Date(Date.parse(startedAt) + 10_000).toISOString()), health(new Date(Date.parse(startedAt) + 20_000).toISOString())]);
      head = await appendAndPublish(streams.ingest(heidi.id), [
        newEvent('PublishInputRefused', { channelId: heidi.id, reason: 'unsupported_video_codec', videoCodec: 'hevc', audioCodec: 'aac', refusedAt: startedAt }),
      ]);
      await waitFor(async () => (await live.runner.position()) >= head, 10_000, 'live checkpoint');
      const graceView = (await getJson(`http://127.0.0.1:${live.port}/channels/grace`)).body as { live: boolean; broadcast: { id: string; startedAt: string } };
      assert.equal(graceView.live, true);
      assert.deepEqual([graceView.broadcast.id, graceView.broadcast.startedAt], [broadcastId, startedAt]);

      const rebuildDb = await createTestDatabase('qa_test');
      dbs.push(rebuildDb);
      // No injected store: the app opens the PostgresEventStore through the factory, as main.ts does.
      const { eventStore: _omit, ...config } = testConfig(rebuildDb, bus, store);
      const rebuilt = await bootstrapQueryApi({ ...config, eventStoreUrl: storeDb.url }, testLogger());
      try {
        assert.equal(await rebuilt.runner.position(), head);
        const liveRows = await dump(liveDb.url);
        assert.deepEqual(
          [liveRows.chatMessages.length, liveRows.chatRoles.length, liveRows.moderationLog.length, liveRows.emotes.length, liveRows.follows.length,
            liveRows.streamHealthSamples.length, liveRows.streamHealthLatest.length, liveRows.publishRefusalsLatest.length],
          [3, 2, 10, 1, 1, 2, 1, 1],
        );
        assert.deepEqual(await dump(rebuildDb.url), liveRows);
      } finally {
        await rebuilt.close();
      }
    } finally {
      await live.close();
    }
  });
});
