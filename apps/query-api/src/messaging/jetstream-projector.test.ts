/**
 * The live JetStream path batches: against real PostgreSQL and JetStream, hundreds of events published at once are
 * applied in global order, exactly once, in far fewer transactions than events — from a backlog, while running,
 * with redelivered duplicates mixed in, and across a hole inside a batch (filled from the store) and a poison message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventSchemas, streams, type EventData, type EventType, type NewEvent, type RecordedEvent } from '@eventcast/events';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { createProjections, createReadModelDb, type ReadModelDb, migrateReadModels, type Projection, ProjectionRunner, StoreCatchUp } from '@eventcast/read-models';
import { chatRoom, registered, user, dumpReadModels, MemoryEventLog } from '@eventcast/read-models/testing';
import { createTestBus, testConfig, testLogger, waitFor, type TestBus } from '../testing/harness.js';
import { JetStreamProjector, type JetStreamProjectorOptions } from './jetstream-projector.js';
import { ensureTopology } from './jetstream-setup.js';

/** A projection that handles every event type and records the positions it is given, in call order. */
function recorder(): Projection & { seen: bigint[] } {
  const seen: bigint[] = [];
  return {
    name: 'test-recorder',
    tables: [],
    handles: Object.keys(eventSchemas) as EventType[],
    seen,
    apply(_trx, event) {
      seen.push(event.globalPosition);
      return Promise.resolve();
    },
  };
}

const range = (from: number, to: number): bigint[] => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

void describe('JetStream projector batching', () => {
  const log = new MemoryEventLog();
  const owner = user('batch_owner');
  const viewers = [user('batch_v1'), user('batch_v2'), user('batch_v3')];
  const room = chatRoom(owner);
  const rec = recorder();
  const dbs: TestDatabase[] = [];
  let bus: TestBus;
  let db: ReadModelDb;
  let destroy: () => Promise<void>;
  let runner: ProjectionRunner;
  let projector: JetStreamProjector;
  let url: string;
  let options: JetStreamProjectorOptions;

  const add = (stream: string, e: NewEvent): RecordedEvent => log.append(stream, e.type as EventType, e.data as EventData<EventType>);
  /** `n` chat events: mostly messages, some follows, now and then a clear. */
  const chatEvents = (n: number, tag: string): RecordedEvent[] =>
    Array.from({ length: n }, (_, i) => {
      const v = viewers[i % viewers.length]!;
      if (i % 97 === 96) return add(streams.chat(owner.id), room.cleared(owner));
      if (i % 50 === 49) return add(streams.follows(owner.id), room.followed(v));
      return add(streams.chat(owner.id), room.message(v, `${tag} ${i}`));
    });
  /** Publishes all at once (one connection keeps their order on the stream). */
  const publishAll = (events: readonly RecordedEvent[]) => Promise.all(events.map((e) => bus.publish(e)));
  const caughtUpTo = (pos: bigint) => waitFor(async () => (await runner.position()) >= pos, 20_000, `checkpoint ${pos}`);

  void before(async () => {
    bus = await createTestBus();
    const tdb = await createTestDatabase('qa_test');
    dbs.push(tdb);
    url = tdb.url;
    const rm = createReadModelDb(tdb.url);
    db = rm.db;
    destroy = () => rm.root.destroy();
    await migrateReadModels(rm.root);
    runner = new ProjectionRunner(db, [...createProjections(), rec]);
    const logger = testLogger();
    options = testConfig(tdb, bus, log).jetstream;
    projector = new JetStreamProjector(bus.nc, runner, new StoreCatchUp(runner, log, logger), options, logger);
  });
  void after(async () => {
    await projector.stop();
    await destroy();
    for (const d of dbs) await d.drop();
    await bus.close();
  });

  void test('a backlog of 500 events is applied in order, exactly once, in a handful of transactions', async (t) => {
    const events = [owner, ...viewers].map((u) => add(streams.account(u.id), registered(u)));
    events.push(...chatEvents(496, 'backlog'));
    assert.equal(events.length, 500);
    await ensureTopology(bus.nc, options);
    await publishAll(events); // before the projector attaches: it starts with everything pending
    await projector.start();
    await caughtUpTo(500n);
    assert.deepEqual(rec.seen, range(1, 500));
    const { transactions } = runner.stats;
    t.diagnostic(`backlog: 500 events, ${transactions} transactions, ${JSON.stringify(projector.stats)}`);
    assert.ok(transactions <= 20, `${transactions} transactions for 500 events`);
    assert.ok(projector.stats.largestBatch > 1, `largest batch ${projector.stats.largestBatch}`);
  });

  void test('500 events published at once while running, with redelivered duplicates, are applied in order exactly once', async (t) => {
    const before = runner.stats.transactions;
    const events = chatEvents(500, 'live');
    const dupes = log.events.slice(100, 120); // already applied; new message ids, so JetStream stores them again
    await Promise.all([publishAll(events.slice(0, 250)), ...dupes.map((e) => bus.publish(e, `${e.id}-again`)), publishAll(events.slice(250))]);
    await caughtUpTo(1000n);
    const transactions = runner.stats.transactions - before;
    t.diagnostic(`live: 520 messages, ${transactions} transactions, ${JSON.stringify(projector.stats)}`);
    assert.deepEqual(rec.seen, range(1, 1000));
    assert.ok(transactions <= 100, `${transactions} transactions for 500 events`);
    const rows = await db.selectFrom('chat_messages').select(['global_position', 'text']).orderBy('global_position').execute();
    const sent = log.events.filter((e) => e.type === 'ChatMessageSent');
    assert.deepEqual(
      rows.map((r) => [BigInt(r.global_position), r.text]),
      sent.map((e) => [e.globalPosition, (e.data as { text: string }).text]),
    );
  });

  void test('a hole inside a batch is filled from the store, and a poison message does not block the batch', async () => {
    const events = chatEvents(40, 'hole');
    const missing = events[19]!; // never reaches JetStream
    await Promise.all([publishAll(events.slice(0, 19)), bus.publishRaw('{"not":"an event"'), publishAll(events.slice(20))]);
    await caughtUpTo(events[39]!.globalPosition);
    assert.deepEqual(rec.seen, range(1, 1040));
    const row = await db.selectFrom('chat_messages').select('text').where('global_position', '=', missing.globalPosition.toString()).executeTakeFirst();
    assert.equal(row?.text, 'hole 19');
  });

  void test('a redacted event (no token hash on the bus) is applied from the store copy, in order, exactly once', async () => {
    const tokenHash = 'ab'.repeat(32);
    const tokenId = '6f1c1b7e-9d1e-4c55-8d0a-2f5b8e0c9a11';
    const created = add(streams.integrations(owner.id), {
      type: 'ApiTokenCreated',
      data: { channelId: owner.id, tokenId, name: 'overlay', scopes: ['chat:read'], botName: 'batch_bot', tokenHash, prefix: 'ect_12345678' },
    });
    const around = [...chatEvents(5, 'before token'), created, ...chatEvents(5, 'after token')];
    await publishAll(around.filter((e) => e !== created).slice(0, 5));
    await bus.publish(created);
    await publishAll(around.slice(6));
    const last = around[around.length - 1]!.globalPosition;
    await caughtUpTo(last);
    const row = await db.selectFrom('api_tokens').select(['token_hash', 'bot_name']).where('id', '=', tokenId).executeTakeFirst();
    assert.deepEqual(row, { token_hash: tokenHash, bot_name: 'batch_bot' });
    assert.deepEqual(rec.seen, range(1, Number(last)));
  });

  void test('the batched live read model equals a rebuild from the store alone', async () => {
    const tdb = await createTestDatabase('qa_test');
    dbs.push(tdb);
    const rm = createReadModelDb(tdb.url);
    try {
      await migrateReadModels(rm.root);
      const rebuiltRec = recorder();
      const rebuilt = new ProjectionRunner(rm.db, [...createProjections(), rebuiltRec]);
      await new StoreCatchUp(rebuilt, log, testLogger()).run();
      assert.deepEqual(rebuiltRec.seen, range(1, 1051));
    } finally {
      await rm.root.destroy();
    }
    assert.deepEqual(await dumpReadModels(tdb.url), await dumpReadModels(url));
  });

  void test('an event the catalog refuses stalls the batch at that event: the ones before it still land', async () => {
    const bus2 = await createTestBus();
    const tdb = await createTestDatabase('qa_test');
    dbs.push(tdb);
    const rm = createReadModelDb(tdb.url);
    const log2 = new MemoryEventLog();
    const rec2 = recorder();
    const runner2 = new ProjectionRunner(rm.db, [...createProjections(), rec2]);
    const logger = testLogger();
    const opts = testConfig(tdb, bus2, log2).jetstream;
    const p2 = new JetStreamProjector(bus2.nc, runner2, new StoreCatchUp(runner2, log2, logger), opts, logger);
    try {
      await migrateReadModels(rm.root);
      await ensureTopology(bus2.nc, opts);
      const u = user('refused_owner');
      const events = [add2(log2, streams.account(u.id), registered(u)), ...Array.from({ length: 9 }, (_, i) => add2(log2, streams.chat(u.id), chatRoom(u).message(u, `r ${i}`)))];
      // Position 5 carries a schema version this build does not know, in JetStream and in the store alike.
      log2.events[4] = { ...events[4]!, version: 99 };
      events[4] = log2.events[4];
      await Promise.all(events.map((e) => bus2.publish(e)));
      await p2.start();
      await waitFor(async () => (await runner2.position()) >= 4n, 10_000, 'checkpoint 4');
      await new Promise((r) => setTimeout(r, 3 * opts.retryDelayMs)); // a few retries
      assert.equal(await runner2.position(), 4n);
      assert.deepEqual(rec2.seen, range(1, 4));
    } finally {
      await p2.stop();
      await rm.root.destroy();
      await bus2.close();
    }
  });
});

function add2(log: MemoryEventLog, stream: string, e: NewEvent): RecordedEvent {
  return log.append(stream, e.type as EventType, e.data as EventData<EventType>);
}
