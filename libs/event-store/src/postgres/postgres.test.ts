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
