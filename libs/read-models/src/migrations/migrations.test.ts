/**
 * Read-model migrations run by several processes starting at once (query-api replicas, ops): every call succeeds,
 * and the migrations are applied exactly once. Separate pools stand for separate processes (separate sessions).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { createReadModelDb } from '../schema/database.js';
import { migrateReadModels, readModelMigrations } from './migrations.js';

void describe('migrateReadModels', () => {
  const dbs: TestDatabase[] = [];
  void after(async () => {
    for (const d of dbs) await d.drop();
  });

  void test('concurrent first starts on an empty database all succeed and apply each migration once', async () => {
    // One round rarely loses the race of an unguarded `CREATE SCHEMA IF NOT EXISTS`; several fresh databases do.
    for (let round = 0; round < 8; round++) {
      const tdb = await createTestDatabase('rm_migrate');
      dbs.push(tdb);
      const roots = Array.from({ length: 6 }, () => createReadModelDb(tdb.url, 1).root);
      try {
        const results = await Promise.allSettled(roots.map((db) => migrateReadModels(db)));
        const failed = results.filter((r) => r.status === 'rejected');
        assert.deepEqual(failed.map((r) => String(r.reason)), [], `round ${round}: every start succeeds`);
        const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
        assert.deepEqual([...applied].sort(), Object.keys(readModelMigrations).sort(), `round ${round}: each migration applied by exactly one caller`);
        const again = await migrateReadModels(roots[0]!);
        assert.deepEqual(again, [], 'a later start applies nothing');
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM readmodels.kysely_migration`.execute(roots[0]!);
        assert.equal(rows[0]!.n, Object.keys(readModelMigrations).length);
      } finally {
        await Promise.all(roots.map((db) => db.destroy()));
      }
    }
  });
});
