/**
 * The read-model pool survives the server ending its idle connections (a PostgreSQL restart, a failover,
 * `pg_terminate_backend`): no uncaught exception (which would end the process), and the next query works.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { createReadModelDb } from './database.js';

void describe('read-model database pool', () => {
  const dbs: TestDatabase[] = [];
  void after(async () => {
    for (const d of dbs) await d.drop();
  });

  void test('idle connections terminated by the server are replaced, not fatal', async () => {
    const tdb = await createTestDatabase('qa_test');
    dbs.push(tdb);
    const { root } = createReadModelDb(tdb.url, 2);
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    const admin = new pg.Client({ connectionString: tdb.url });
    await admin.connect();
    try {
      const before = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(root);
      const pid = before.rows[0]!.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await sleep(200); // the idle client sees its socket end
      const again = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(root);
      assert.notEqual(again.rows[0]!.pid, pid, 'a new connection');
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
      await admin.end();
      await root.destroy();
    }
  });
});
