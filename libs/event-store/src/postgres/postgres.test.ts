/**
 * Runs the event-store contract against PostgreSQL: a fresh database for this file, dropped afterwards.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createTestDatabase } from '@eventcast/platform';
import { runEventStoreContract } from '../contract.js';
import { PostgresEventStore } from './store.js';

runEventStoreContract('PostgresEventStore contract', async () => {
  const db = await createTestDatabase('eventstore_test');
  const store = new PostgresEventStore({ connectionString: db.url });
  await Promise.all([store.migrate(), store.migrate()]);
  await store.migrate();
  return {
    store,
    async cleanup() {
      await store.close();
      await db.drop();
    },
  };
});

void it('PostgresEventStore.migrate is idempotent and creates the publisher checkpoint table', async () => {
  const db = await createTestDatabase('eventstore_test');
  const store = new PostgresEventStore({ connectionString: db.url });
  try {
    await store.migrate();
    await store.migrate();
    const r = await store.pool.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM information_schema.tables WHERE table_schema = 'eventstore'",
    );
    assert.equal(r.rows[0]?.n, '4');
  } finally {
    await store.close();
    await db.drop();
  }
});

void it('PostgresSubscription survives terminated connections and keeps delivering in order', { timeout: 30_000 }, async () => {
  const db = await createTestDatabase('eventstore_test');
  const store = new PostgresEventStore({ connectionString: db.url, subscription: { pollIntervalMs: 200 } });
  const writer = new PostgresEventStore({ connectionString: db.url });
  const ev = { type: 'PublishRejected', data: { channelId: null, reason: 'invalid_key', remoteAddress: '10.9.9.9' } };
  try {
    await store.migrate();
    await writer.append('ingest-a', [ev], 'no_stream');
    const sub = store.subscribeToAll();
    const seen: bigint[] = [];
    for await (const event of sub) {
      seen.push(event.revision);
      if (seen.length === 1) {
        await writer.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        await writer.append('ingest-a', [ev], 0n).catch(() => writer.append('ingest-a', [ev], 0n));
        await writer.append('ingest-a', [ev], 1n);
      }
      if (seen.length === 3) await sub.close();
    }
    assert.deepEqual(seen, [0n, 1n, 2n]);
  } finally {
    await writer.close();
    await store.close();
    await db.drop();
  }
});

void it('a connection lost while checked out of the pool does not end the process; the next append succeeds', { timeout: 30_000 }, async () => {
  // node-postgres emits 'error' on a client whose backend dies; while a client is checked out (between the queries of
  // the append's transaction) pg-pool has no listener on it, and an unhandled 'error' ends the process (issue 9 item 12).
  const db = await createTestDatabase('eventstore_test');
  const store = new PostgresEventStore({ connectionString: db.url });
  const admin = new PostgresEventStore({ connectionString: db.url });
  const ev = { type: 'PublishRejected', data: { channelId: null, reason: 'invalid_key', remoteAddress: '10.9.9.8' } };
  try {
    await store.migrate();
    const held = await store.pool.connect();
    const pid = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await held.query('BEGIN');
    await admin.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await new Promise((r) => setTimeout(r, 300)); // the FATAL message and the socket's end arrive meanwhile
    await assert.rejects(held.query('SELECT 1'));
    held.release(true);
    await store.append('ingest-lost', [ev], 'no_stream');
    assert.equal((await store.readStream('ingest-lost')).length, 1);
  } finally {
    await admin.close();
    await store.close();
    await db.drop();
  }
});

void it('group commit: concurrent appends share transactions, each gets its own result or error, positions stay gap-free', { timeout: 60_000 }, async () => {
  const db = await createTestDatabase('eventstore_test');
  const store = new PostgresEventStore({ connectionString: db.url });
  const ev = (n: number, id?: string) => ({ ...(id ? { id } : {}), type: 'PublishRejected', data: { channelId: null, reason: 'invalid_key', remoteAddress: `10.8.${n % 250}.1` } });
  try {
    await store.migrate();
    // 200 appends at once: 100 on one hot stream (`any`), 50 on own streams (`no_stream`), 30 racing with the same
    // exact expected revision on one stream (exactly one wins), 20 whose event id repeats an earlier one (each fails
    // alone with DuplicateEventIdError, without failing its group).
    await store.append('ingest-race', [ev(0)], 'no_stream');
    const dupId = '0b7c7f44-3e0c-4a47-9d1e-3b1f7f1a0001';
    await store.append('ingest-dup', [ev(0, dupId)], 'no_stream');
    const calls: Array<Promise<unknown>> = [];
    const kinds: string[] = [];
    const add = (kind: string, call: Promise<unknown>) => {
      kinds.push(kind);
      calls.push(call);
    };
    for (let i = 0; i < 200; i++) {
      if (i % 10 < 5) add('hot', store.append('ingest-hot', [ev(i), ev(i + 1)], 'any'));
      else if (i % 10 < 7) add('own', store.append(`ingest-own-${i}`, [ev(i)], 'no_stream'));
      else if (i % 10 < 9) add('race', store.append('ingest-race', [ev(i)], 0n));
      else add('dup', store.append(`ingest-d-${i}`, [ev(i, dupId)], 'no_stream'));
    }
    const settled = await Promise.allSettled(calls);
    const by = (k: string) => settled.filter((_, i) => kinds[i] === k);
    assert.ok(by('hot').every((s) => s.status === 'fulfilled'));
    assert.ok(by('own').every((s) => s.status === 'fulfilled'));
    assert.equal(by('race').filter((s) => s.status === 'fulfilled').length, 1);
    assert.ok(by('race').every((s) => s.status === 'fulfilled' || (s.reason as Error).name === 'WrongExpectedRevisionError'));
    assert.ok(by('dup').every((s) => s.status === 'rejected' && (s.reason as Error).name === 'DuplicateEventIdError'));
    // Every result names its own last event: revision and position of the stored event agree.
    const all = await store.readAll({ limit: 10_000 });
    const at = new Map(all.map((e) => [e.globalPosition, e]));
    settled.forEach((s, i) => {
      if (s.status !== 'fulfilled') return;
      const r = s.value as { nextExpectedRevision: bigint; lastGlobalPosition: bigint };
      const stored = at.get(r.lastGlobalPosition);
      assert.ok(stored, `position ${r.lastGlobalPosition} stored`);
      assert.equal(stored.revision, r.nextExpectedRevision, `${kinds[i]} #${i}: revision of its last event`);
    });
    assert.deepEqual(all.map((e) => e.globalPosition), all.map((_, i) => BigInt(i + 1)), 'gap-free positions');
    assert.equal(await store.headPosition(), BigInt(all.length));
    assert.deepEqual((await store.readStream('ingest-hot')).map((e) => e.revision), Array.from({ length: 200 }, (_, i) => BigInt(i)));
    // Grouped: rows written by one transaction share their xmin; 182 appends (one bad in ten) took far fewer.
    const txs = Number((await store.pool.query<{ n: string }>('SELECT count(DISTINCT xmin::text)::text AS n FROM eventstore.events')).rows[0]!.n);
    assert.ok(txs < 120, `transactions: ${txs}`);
    // Without bad appends, 200 concurrent appends take a handful of transactions.
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.append('ingest-hot2', [ev(i)], 'any')));
    const hot2 = Number((await store.pool.query<{ n: string }>("SELECT count(DISTINCT xmin::text)::text AS n FROM eventstore.events WHERE stream_name = 'ingest-hot2'")).rows[0]!.n);
    assert.ok(hot2 <= 5, `transactions for 200 appends: ${hot2}`);
  } finally {
    await store.close();
    await db.drop();
  }
});
