/**
 * EventPublisher against real services: PostgreSQL (fresh database per test) and a private nats-server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import type { NewEvent } from '@eventcast/events';
import { PostgresEventStore } from './postgres/store.js';
import { EventPublisher } from './publisher.js';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { readBack, storedCount, waitFor } from './test-support/jetstream-read.js';

let db: TestDatabase;
let nats: PrivateNatsServer;
let store: PostgresEventStore;

const ev = (n: number): NewEvent => ({ type: 'PublishRejected', data: { channelId: null, reason: 'invalid_key', remoteAddress: `10.1.0.${n % 250}` } });

/** Appends `count` events over 5 streams, `perAppend` at a time. */
async function appendMany(count: number, perAppend = 1): Promise<void> {
  for (let i = 0; i < count; i += perAppend) {
    const n = Math.min(perAppend, count - i);
    await store.append(`ingest-pub${i % 5}`, Array.from({ length: n }, (_, k) => ev(i + k)), 'any');
  }
}

/** Asserts JetStream holds every event of the store exactly once, in global order. */
async function assertAllPublishedOnce(): Promise<void> {
  const expected = (await store.readAll({ limit: 100_000 })).map((e) => e.id);
  const got = await readBack(nats.url);
  assert.equal(got.length, expected.length, 'message count');
  assert.deepEqual(got.map((m) => m.event.id), expected, 'same ids, same order');
  assert.deepEqual(got.map((m) => m.msgId), expected, 'Nats-Msg-Id = event id');
  // `eventcast.events.<category>.<channel>.<type>`: a PublishRejected names no channel (`_`).
  assert.equal(got[0]?.subject, 'eventcast.events.ingest._.PublishRejected');
}

beforeEach(async () => {
  db = await createTestDatabase('eventstore_pub');
  store = new PostgresEventStore({ connectionString: db.url });
  await store.migrate();
  nats = await startPrivateNats();
});

afterEach(async () => {
  await store.close();
  await nats.dispose();
  await db.drop();
});

void it('publishes events appended before and during its run exactly once, in global order', { timeout: 60_000 }, async () => {
  await appendMany(60, 3);
  const publisher = new EventPublisher({ store, databaseUrl: db.url, natsServers: nats.url });
  await publisher.start();
  await Promise.all([appendMany(40), appendMany(30, 2)]);
  await waitFor(async () => (await storedCount(nats.url)) === 130, 20_000, '130 messages');
  await waitFor(async () => (await publisher.status()).lag === 0n, 5000, 'lag 0');
  await publisher.stop();
  await assertAllPublishedOnce();
  const cp = await store.pool.query<{ position: string }>("SELECT position::text AS position FROM eventstore.publisher_checkpoint WHERE name = 'jetstream'");
  assert.equal(cp.rows[0]?.position, '130', 'checkpoint stored on stop');
});

void it('resumes after the publishing process is SIGKILLed mid-way: every event once, in order', { timeout: 90_000 }, async () => {
  await appendMany(3000, 100);
  const script = fileURLToPath(new URL('./test-support/publisher-child.js', import.meta.url));
  const child = spawn(process.execPath, [script], { env: { ...process.env, DATABASE_URL: db.url, NATS_URL: nats.url }, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(async () => (await storedCount(nats.url)) >= 200, 30_000, 'child to publish 200');
  child.kill('SIGKILL');
  await exited;
  const atKill = await storedCount(nats.url);
  assert.ok(atKill < 3000, `killed mid-way (had ${atKill})`);
  const publisher = new EventPublisher({ store, databaseUrl: db.url, natsServers: nats.url });
  await publisher.start();
  await waitFor(async () => (await publisher.status()).lag === 0n, 30_000, 'publisher to catch up');
  await publisher.stop();
  await assertAllPublishedOnce();
});

void it('recovers when NATS is down for a while: nothing lost, nothing twice, in order', { timeout: 90_000 }, async () => {
  const errors: unknown[] = [];
  const publisher = new EventPublisher({
    store,
    databaseUrl: db.url,
    natsServers: nats.url,
    publishTimeoutMs: 1000,
    backoff: { initialMs: 100, maxMs: 1000 },
    onError: (err) => errors.push(err),
  });
  await publisher.start();
  await appendMany(20);
  await waitFor(async () => (await storedCount(nats.url)) === 20, 20_000, 'first 20');
  await nats.stop();
  await appendMany(30, 3);
  await new Promise((r) => setTimeout(r, 2000));
  await nats.start();
  await appendMany(10);
  await waitFor(async () => (await publisher.status()).lag === 0n, 30_000, 'publisher to recover');
  await publisher.stop();
  assert.ok(errors.length > 0, 'the outage was noticed');
  await assertAllPublishedOnce();
});

void it('publishes again within about a second of NATS coming back, though appends went on during a 6 s outage', { timeout: 60_000 }, async () => {
  const errors: { at: number; message: string }[] = [];
  let n = 5;
  const publisher = new EventPublisher({
    store,
    databaseUrl: db.url,
    natsServers: nats.url,
    backoff: { initialMs: 100, maxMs: 1000 },
    onError: (e) => errors.push({ at: Date.now(), message: e instanceof Error ? e.message : String(e) }),
  });
  await publisher.start();
  await appendMany(5);
  await waitFor(async () => (await storedCount(nats.url)) === 5, 10_000, 'first 5');
  await nats.stop();
  // Appends go on while NATS is away (as HTTP commands do), longer than a publish's 5 s PubAck timeout.
  const until = Date.now() + 6000;
  while (Date.now() < until) {
    await appendMany(1);
    n++;
    await new Promise((r) => setTimeout(r, 100));
  }
  await nats.start();
  const back = Date.now();
  await appendMany(1);
  n++;
  await waitFor(async () => (await storedCount(nats.url)) === n, 10_000, `all ${n}`);
  const resumedMs = Date.now() - back;
  await publisher.stop();
  assert.ok(resumedMs <= 1500, `published everything ${resumedMs} ms after NATS came back; errors: ${JSON.stringify(errors.map((e) => ({ ...e, at: e.at - back })))}`);
  await assertAllPublishedOnce();
});

void it('keeps a second instance with the same name waiting while the first holds the lock', { timeout: 30_000 }, async () => {
  const first = new EventPublisher({ store, databaseUrl: db.url, natsServers: nats.url, lockRetryMs: 100 });
  const second = new EventPublisher({ store, databaseUrl: db.url, natsServers: nats.url, lockRetryMs: 100 });
  await first.start();
  await appendMany(10);
  await waitFor(async () => (await first.status()).active, 5000, 'first active');
  await second.start();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await second.status()).active, false);
  await first.stop();
  await appendMany(10);
  await waitFor(async () => (await second.status()).active && (await second.status()).lag === 0n, 10_000, 'second takes over');
  await second.stop();
  await assertAllPublishedOnce();
});

void it('stops promptly however soon after start() it is asked to', { timeout: 60_000 }, async () => {
  for (const delayMs of [0, 5, 10, 20, 50]) {
    const publisher = new EventPublisher({ store, databaseUrl: db.url, natsServers: nats.url, lockRetryMs: 100 });
    await publisher.start();
    await new Promise((r) => setTimeout(r, delayMs));
    const stopped = await Promise.race([publisher.stop().then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    assert.equal(stopped, true, `stop() ${delayMs} ms after start() returned within 5 s`);
  }
});
