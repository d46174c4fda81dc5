/**
 * Read-your-writes (ARCHITECTURE.md invariant 8, libs/contracts/src/read-your-writes.ts) against real PostgreSQL and
 * NATS JetStream: a read with `?minPosition=P` sent BEFORE the event at P is even published answers with the
 * projected state once the projector applies it; a position never reached answers the documented 503 within the
 * bound; a malformed position answers 400; every read says the position it reflects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  INVALID_MIN_POSITION_CODE,
  MIN_POSITION_HEADER,
  POSITION_HEADER,
  POSITION_NOT_REACHED_CODE,
  positionNotReachedBodySchema,
} from '@eventcast/contracts';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi, type RunningQueryApi } from './bootstrap.js';
import { register, start, MemoryEventLog } from '@eventcast/read-models/testing';
import { createTestBus, testConfig, testLogger, waitFor, type TestBus } from './testing/harness.js';

/** The in-memory log plus the head read-your-writes checks `minPosition` against (the PostgreSQL store's `headPosition`). */
class HeadedLog extends MemoryEventLog {
  headPosition(): Promise<bigint> {
    return Promise.resolve(this.events.at(-1)?.globalPosition ?? 0n);
  }
}

/** The bound configured for this app (ms). */
const BOUND_MS = 1_500;

void describe('read-your-writes (minPosition)', () => {
  const log = new HeadedLog();
  let bus: TestBus;
  let db: TestDatabase;
  let api: RunningQueryApi;
  let base: string;

  void before(async () => {
    bus = await createTestBus();
    db = await createTestDatabase('qa_test');
    api = await bootstrapQueryApi({ ...testConfig(db, bus, log), maxPositionWaitMs: BOUND_MS }, testLogger());
    base = `http://127.0.0.1:${api.port}`;
  });
  void after(async () => {
    await api.close();
    await db.drop();
    await bus.close();
  });

  void test('a read waiting for P answers the state at P, although the event is projected after the request arrived', async () => {
    const { channelId, event: registered } = register(log, 'rywalice');
    await bus.publish(registered);
    await waitFor(async () => (await api.runner.position()) >= registered.globalPosition, 10_000, 'registered projected');

    const { broadcastId, event: started } = start(log, channelId, 'rywalice');
    const P = started.globalPosition;
    const sentAt = performance.now();
    const pending = fetch(`${base}/channels/rywalice?minPosition=${P}`);
    // The request is in; only now does the event reach JetStream (and so the projector).
    await new Promise((r) => setTimeout(r, 300));
    assert.ok((await api.runner.position()) < P, 'not projected before the publish');
    await bus.publish(started);
    const res = await pending;
    const elapsed = performance.now() - sentAt;
    assert.equal(res.status, 200);
    const body = (await res.json()) as { live: boolean; broadcast: { id: string } | null };
    assert.equal(body.live, true);
    assert.equal(body.broadcast?.id, broadcastId);
    assert.ok(BigInt(res.headers.get(POSITION_HEADER) ?? '-1') >= P, `reflected position ${res.headers.get(POSITION_HEADER)} >= ${P}`);
    assert.ok(elapsed >= 300 && elapsed < BOUND_MS, `answered after ${elapsed.toFixed(0)} ms`);

    // The header form works the same, and a position already reached answers at once.
    const again = await fetch(`${base}/channels/rywalice`, { headers: { [MIN_POSITION_HEADER]: P.toString() } });
    assert.equal(again.status, 200);
    assert.ok(BigInt(again.headers.get(POSITION_HEADER) ?? '-1') >= P);
  });

  void test('every read route says the position it reflects; probes and metrics do not wait', async () => {
    const head = await api.runner.position();
    for (const path of ['/channels', '/channels/live', '/channels/rywalice', '/channels/rywalice/chat/settings', '/channels/rywalice/emotes']) {
      const res = await fetch(`${base}${path}`, { headers: { Origin: 'http://web.test' } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get(POSITION_HEADER), head.toString(), path);
      // Readable by the web app on another origin.
      assert.match(res.headers.get('access-control-expose-headers') ?? '', new RegExp(POSITION_HEADER, 'i'), path);
      await res.arrayBuffer();
    }
    for (const path of ['/health', '/ready', '/metrics']) {
      const res = await fetch(`${base}${path}?minPosition=999999999`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get(POSITION_HEADER), null, path);
      await res.arrayBuffer();
    }
  });

  void test('a position never reached answers 503 + Retry-After + position_not_reached within the bound', async () => {
    const head = await api.runner.position();
    // In the event log but never published, so never projected.
    const unpublished = register(log, 'rywnever').event.globalPosition;
    assert.ok(unpublished > head);
    const sentAt = performance.now();
    const res = await fetch(`${base}/channels/rywalice?minPosition=${unpublished}`);
    const elapsed = performance.now() - sentAt;
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(res.headers.get(POSITION_HEADER), head.toString());
    const body = positionNotReachedBodySchema.parse(await res.json());
    assert.equal(body.code, POSITION_NOT_REACHED_CODE);
    assert.equal(body.minPosition, unpublished.toString());
    assert.equal(body.position, head.toString());
    assert.match(body.message, /not reached global position/);
    assert.ok(elapsed >= BOUND_MS - 50 && elapsed < BOUND_MS + 1_000, `503 after ${elapsed.toFixed(0)} ms (bound ${BOUND_MS})`);
    // The app is unharmed: a read without minPosition still answers.
    assert.equal((await fetch(`${base}/channels/rywalice`)).status, 200);
  });

  void test('a position beyond the event log\'s head answers 400 invalid_min_position at once, not after the wait', async () => {
    const logHead = BigInt(log.events.length);
    for (const min of [9_223_372_036_854_775_807n, logHead + 1n]) {
      const sentAt = performance.now();
      const res = await fetch(`${base}/channels/rywalice?minPosition=${min}`);
      const elapsed = performance.now() - sentAt;
      assert.equal(res.status, 400, min.toString());
      const body = (await res.json()) as { code?: string; message?: string };
      assert.equal(body.code, INVALID_MIN_POSITION_CODE);
      assert.equal(body.message, `minPosition ${min} is beyond the event log's head (global position ${logHead})`);
      assert.ok(elapsed < BOUND_MS / 2, `answered after ${elapsed.toFixed(0)} ms`);
    }
    // A position just appended is at the head: not refused, although the cached head may predate it.
    const next = register(log, 'rywfresh').event;
    const res = await fetch(`${base}/channels/rywalice?minPosition=${next.globalPosition}`);
    assert.equal(res.status, 503);
    await res.arrayBuffer();
  });

  void test('a malformed minPosition answers 400 invalid_min_position at once', async () => {
    const bad = ['abc', '-1', '01', '1.5', '9223372036854775808', '99999999999999999999', ' 1', '0x10'];
    for (const raw of bad) {
      const res = await fetch(`${base}/channels/rywalice?minPosition=${encodeURIComponent(raw)}`);
      assert.equal(res.status, 400, raw);
      const body = (await res.json()) as { code?: string; message?: string };
      assert.equal(body.code, INVALID_MIN_POSITION_CODE, raw);
      assert.match(body.message ?? '', /minPosition/, raw);
    }
    const twice = await fetch(`${base}/channels/rywalice?minPosition=1&minPosition=2`);
    assert.equal(twice.status, 400);
    const header = await fetch(`${base}/channels/rywalice`, { headers: { [MIN_POSITION_HEADER]: 'soon' } });
    assert.equal(header.status, 400);
    assert.equal(((await header.json()) as { code?: string }).code, INVALID_MIN_POSITION_CODE);
  });
});
