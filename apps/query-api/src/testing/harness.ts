/**
 * Integration-test harness: a fresh database, a unique JetStream stream/consumer on the shared NATS server,
 * a publisher of wire events, and polling helpers.
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { toMessage } from '@eventcast/event-store';
import type { RecordedEvent } from '@eventcast/events';
import { createLogger, createTestDatabase, type Logger, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi, type RunningQueryApi } from '../bootstrap.js';
import type { QueryApiConfig } from '../config.js';
import type { EventLogReader, Projection } from '@eventcast/read-models';
import { projectAlone } from '@eventcast/read-models/testing';

/** A unique stream (`QA_TEST_<hex>`, subjects `qa_test_<hex>.>`) on the shared server. */
export interface TestBus {
  nc: NatsConnection;
  stream: string;
  subjectPrefix: string;
  /**
   * Publishes `event` as the publisher does (`toMessage` of @eventcast/event-store: the published wire form without
   * credential fields, and the contract headers), with `Nats-Msg-Id` (default: the event id).
   */
  publish(event: RecordedEvent, msgId?: string): Promise<void>;
  /** Publishes raw bytes on a subject of the stream (poison-message tests). */
  publishRaw(body: string): Promise<void>;
  /** Deletes the stream and closes the connection. */
  close(): Promise<void>;
}

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** Connects and returns a fresh {@link TestBus} (the stream itself is created by the app under test). */
export async function createTestBus(): Promise<TestBus> {
  const id = randomBytes(5).toString('hex');
  const nc = await connect({ servers: NATS_URL, name: 'query-api-test' });
  const js = jetstream(nc);
  const stream = `QA_TEST_${id}`;
  const subjectPrefix = `qa_test_${id}`;
  return {
    nc,
    stream,
    subjectPrefix,
    async publish(event, msgId = event.id) {
      const m = toMessage(event, 5000);
      const subject = m.subject.replace(/^eventcast\.events/, subjectPrefix);
      await js.publish(subject, m.payload, { ...m.options, msgID: msgId });
    },
    async publishRaw(body) {
      await js.publish(`${subjectPrefix}.junk.Junk`, body);
    },
    async close() {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream).catch(() => false);
      await nc.close();
    },
  };
}

/** Config for an app under test: port 0, the test bus, the given store, no signal handlers. */
export function testConfig(db: TestDatabase, bus: TestBus, store: EventLogReader, consumer = `qa-test-${randomBytes(4).toString('hex')}`): QueryApiConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: db.url,
    natsUrl: NATS_URL,
    hlsPublicUrl: '',
    eventStore: store,
    shutdownHooks: false,
    jetstream: { stream: bus.stream, subjects: [`${bus.subjectPrefix}.>`], consumer, maxAckPending: 1024, batchSize: 256, ackWaitMs: 5_000, retryDelayMs: 200 },
  };
}

/** Quiet logger for tests (`LOG_LEVEL` overrides). */
export function testLogger(): Logger {
  process.env['LOG_LEVEL'] ??= 'warn';
  return createLogger('query-api-test');
}

/** Boots an app on a fresh database. */
export async function startApp(bus: TestBus, store: EventLogReader): Promise<{ db: TestDatabase; api: RunningQueryApi; base: string }> {
  const db = await createTestDatabase('qa_test');
  const api = await bootstrapQueryApi(testConfig(db, bus, store), testLogger());
  return { db, api, base: `http://127.0.0.1:${api.port}` };
}

/** Polls until `check` returns a truthy value (10 s by default): `waitFor` of @eventcast/platform. */
export { waitFor } from '@eventcast/platform';

/** GET `url` → `{ status, body }` (body parsed as JSON). */
export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/**
 * The rows of `projection` built three more ways from `log`, to compare with the live read model: alone one event
 * per transaction, alone in one batch of 1000, and by a fresh query-api's catch-up from the store in batches of
 * `catchUpBatchSize` (all projections). Each in a database from `newDb`; `dump` reads the rows to compare.
 * @returns the three dumps, in that order.
 */
export async function rebuiltThreeWays<T>(
  o: { projection: Projection; log: EventLogReader & { events: readonly RecordedEvent[] }; bus: TestBus; catchUpBatchSize: number },
  newDb: () => Promise<TestDatabase>,
  dump: (url: string) => Promise<T>,
): Promise<T[]> {
  const one = await newDb();
  await projectAlone(one.url, o.projection, o.log.events, 1);
  const all = await newDb();
  await projectAlone(all.url, o.projection, o.log.events, 1000);
  const rebuildDb = await newDb();
  const rebuilt = await bootstrapQueryApi({ ...testConfig(rebuildDb, o.bus, o.log, `qa-test-${randomBytes(4).toString('hex')}`), catchUpBatchSize: o.catchUpBatchSize }, testLogger());
  await rebuilt.close();
  return [await dump(one.url), await dump(all.url), await dump(rebuildDb.url)];
}
