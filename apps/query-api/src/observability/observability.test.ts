/**
 * Readiness on projection lag and the /metrics endpoint, with the real PostgresEventStore and JetStream: events
 * appended to the store but not (yet) delivered to the projector make `/ready` 503 with the lagging projection named
 * (liveness stays 200); delivering them lets the projector catch up and `/ready` returns to 200.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { PostgresEventStore } from '@eventcast/event-store';
import { newEvent, streams, type NewEvent } from '@eventcast/events';
import { createTestDatabase, parseMetrics, sampleValue, type MetricFamily, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi, type RunningQueryApi } from '../bootstrap.js';
import { createTestBus, getJson, testConfig, testLogger, waitFor, type TestBus } from '../testing/harness.js';
import { lagProblems } from './projection-lag.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';

void describe('query-api observability', () => {
  let storeDb: TestDatabase;
  let readDb: TestDatabase;
  let store: PostgresEventStore;
  let bus: TestBus;
  let api: RunningQueryApi;
  let base: string;

  void before(async () => {
    storeDb = await createTestDatabase('qa_store');
    store = new PostgresEventStore({ connectionString: storeDb.url });
    await store.migrate();
    bus = await createTestBus();
    readDb = await createTestDatabase('qa_test');
    api = await bootstrapQueryApi({ ...testConfig(readDb, bus, store), readiness: { maxLagEvents: 5, maxLagSeconds: 0 } }, testLogger());
    base = `http://127.0.0.1:${api.port}`;
  });
  void after(async () => {
    await api.close();
    await store.close();
    await bus.close();
    await readDb.drop();
    await storeDb.drop();
  });

  const scrape = async (): Promise<MetricFamily[]> => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseMetrics(await res.text());
  };

  const register = (): NewEvent[] => {
    const id = randomUUID();
    return [newEvent('AccountRegistered', { accountId: id, username: `u${id.slice(0, 8)}`, passwordHash: HASH })];
  };

  void test('/ready is 503 naming the lagging projection while the projector is behind, 200 once it caught up', async () => {
    assert.deepEqual(await getJson(`${base}/ready`), { status: 200, body: { status: 'ready', role: 'leader' } });
    assert.equal((await getJson(`${base}/health/ready`)).status, 200);

    // Appended to the store, not delivered on JetStream: the live projector cannot see them (as when it is stopped).
    for (let i = 0; i < 8; i++) {
      const events = register();
      await store.append(streams.account(String((events[0]!.data as { accountId: string }).accountId)), events, 'no_stream');
    }
    const head = await store.headPosition();
    assert.equal(head, 8n);
    const notReady = await getJson(`${base}/ready`);
    assert.equal(notReady.status, 503);
    const message = (notReady.body as { message: string }).message;
    assert.match(message, /projection channels is 8 events \(\d+\.\d s\) behind the event store head 8/);
    assert.equal((await getJson(`${base}/health`)).status, 200, 'liveness does not depend on the lag');

    let m = await scrape();
    assert.equal(sampleValue(m, 'eventcast_projection_lag_events', { projection: 'channels' }), 8);
    assert.equal(sampleValue(m, 'eventcast_projection_checkpoint', { projection: 'channels' }), 0);
    assert.equal(sampleValue(m, 'eventcast_event_store_head_position'), 8);
    await sleep(1100);
    m = await scrape();
    assert.ok(sampleValue(m, 'eventcast_projection_lag_seconds', { projection: 'channels' }) >= 1);
    const projectedBefore = sampleValue(m, 'eventcast_projector_events_total');

    // Deliver them: the projector applies them and readiness comes back.
    for (const e of await store.readAll({ after: 0n })) await bus.publish(e);
    await waitFor(async () => (await getJson(`${base}/ready`)).status === 200, 10_000, '/ready 200 after catching up');
    // Ready means "within the limit" (≤ 5 events behind); wait for the rest of the batch to land too.
    m = await waitFor(async () => {
      const now = await scrape();
      return sampleValue(now, 'eventcast_projection_lag_events') === 0 && now;
    }, 10_000, 'lag 0');
    for (const f of m.filter((x) => x.name === 'eventcast_projection_lag_events')) {
      assert.ok(f.samples.length >= 8, 'one series per projection');
      for (const s of f.samples) assert.equal(s.value, 0, s.labels['projection']);
    }
    assert.equal(sampleValue(m, 'eventcast_projection_checkpoint', { projection: 'channels' }), 8);
    assert.equal(sampleValue(m, 'eventcast_projection_lag_seconds', { projection: 'channels' }), 0);
    assert.equal(sampleValue(m, 'eventcast_projector_events_total') - projectedBefore, 8);
    assert.ok(sampleValue(m, 'eventcast_projector_jetstream_messages_total') >= 8);
  });

  void test('/metrics counts HTTP requests by route template and status', async () => {
    const before = await scrape();
    const route = { app: 'query-api', method: 'GET', route: '/channels/:username', status: '404' };
    assert.equal((await getJson(`${base}/channels/nobody_here`)).status, 404);
    assert.equal((await getJson(`${base}/channels/nobody_else`)).status, 404);
    const m = await scrape();
    assert.equal(sampleValue(m, 'eventcast_http_requests_total', route) - sampleValue(before, 'eventcast_http_requests_total', route), 2);
    assert.equal(sampleValue(m, 'eventcast_http_request_duration_seconds_count', route) - sampleValue(before, 'eventcast_http_request_duration_seconds_count', route), 2);
    assert.equal(sampleValue(m, 'eventcast_app_info', { app: 'query-api' }), 1);
  });

  void test('lag limits: each limit alone makes a projection too far behind; 0 turns a limit off', () => {
    const lag = { projection: 'chat_messages', checkpoint: 10n, head: 20n, lagEvents: 10n, lagSeconds: 4.2 };
    assert.deepEqual(lagProblems([lag], { maxLagEvents: 10, maxLagSeconds: 5 }), []);
    assert.match(lagProblems([lag], { maxLagEvents: 9, maxLagSeconds: 0 })[0] ?? '', /chat_messages is 10 events \(4\.2 s\)/);
    assert.equal(lagProblems([lag], { maxLagEvents: 0, maxLagSeconds: 4 }).length, 1);
    assert.deepEqual(lagProblems([lag], { maxLagEvents: 0, maxLagSeconds: 0 }), []);
  });
});
