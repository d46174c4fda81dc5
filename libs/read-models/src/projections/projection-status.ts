/**
 * Writes of `readmodels.projection_status` (see `ProjectionStatusTable` in database/schema.ts): the live projector's
 * failures here, a rebuild's progress in src/rebuild/status.ts.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../schema/schema.js';

/**
 * Records that applying failed for `names` (the error text, truncated to 2000 characters, and now).
 * @throws database errors (the caller treats the status as best effort).
 */
export async function recordLiveFailure(db: Kysely<DB>, names: readonly string[], error: string): Promise<void> {
  const text = error.slice(0, 2000);
  await db
    .insertInto('projection_status')
    .values(names.map((name) => ({ name, live_error: text, live_failed_at: sql<Date>`now()` })))
    .onConflict((oc) => oc.column('name').doUpdateSet({ live_error: text, live_failed_at: sql<Date>`now()` }))
    .execute();
}

/** Clears the recorded live failure of `names` after a successful commit. @throws database errors. */
export async function clearLiveFailure(db: Kysely<DB>, names: readonly string[]): Promise<void> {
  await db.updateTable('projection_status').set({ live_error: null, live_failed_at: null }).where('name', 'in', names).execute();
}
