/**
 * Read models built in throw-away test databases (real PostgreSQL, `createTestDatabase`), without any app around
 * them: for the projection, rebuild and equality tests of this lib and of the apps that use it.
 */
import type { RecordedEvent } from '@eventcast/events';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { migrateReadModels } from '../migrations/migrations.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import type { Projection } from '../projections/projection.js';
import { createProjections } from '../registry.js';
import { createReadModelDb } from '../schema/database.js';

/**
 * Migrates the read-model database at `url` and applies `events` with a runner of `projection` alone, in batches of
 * `size` events per transaction (rebuild-equality tests: the rows must not depend on the batching).
 */
export async function projectAlone(url: string, projection: Projection, events: readonly RecordedEvent[], size: number): Promise<void> {
  const { db, root } = createReadModelDb(url, 1);
  try {
    await migrateReadModels(root);
    const runner = new ProjectionRunner(db, [projection]);
    for (let i = 0; i < events.length; i += size) await runner.apply(events.slice(i, i + size));
  } finally {
    await root.destroy();
  }
}

/**
 * The live read model of `events`: a fresh test database (pushed to `dbs`, for the caller's `after` to drop), migrated,
 * with every registered projection applied in batches of `size` events per transaction (default 1: as the live projector).
 * @returns the database and a Kysely `root` on it (2 connections) that the caller destroys.
 */
export async function liveReadModel(dbs: TestDatabase[], events: readonly RecordedEvent[], size = 1): Promise<{ tdb: TestDatabase; root: ReturnType<typeof createReadModelDb>['root']; runner: ProjectionRunner }> {
  const tdb = await createTestDatabase('qa_test');
  dbs.push(tdb);
  const { db, root } = createReadModelDb(tdb.url, 2);
  try {
    await migrateReadModels(root);
    const runner = new ProjectionRunner(db, createProjections());
    for (let i = 0; i < events.length; i += size) await runner.apply(events.slice(i, i + size));
    return { tdb, root, runner };
  } catch (err) {
    await root.destroy();
    throw err;
  }
}
