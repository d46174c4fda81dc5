/**
 * PostgreSQL side of the publisher: the checkpoint row and the session-level advisory lock that keeps one active
 * publisher per name. Both run on one dedicated client, so losing that connection also releases the lock.
 */
import type pg from 'pg';

/** First half of the two-int advisory-lock key; the second is `hashtext(name)`. */
const PUBLISHER_LOCK = 7_341_002;

/** Creates `eventstore.publisher_checkpoint` when missing (also part of the store's `migrate()`). */
export async function ensureCheckpointTable(client: pg.ClientBase): Promise<void> {
  await client.query('CREATE SCHEMA IF NOT EXISTS eventstore');
  await client.query(`CREATE TABLE IF NOT EXISTS eventstore.publisher_checkpoint (
    name text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
}

/** The stored position of publisher `name`: every event at or below it is in JetStream. 0n when none. */
export async function loadCheckpoint(client: pg.ClientBase, name: string): Promise<bigint> {
  const r = await client.query<{ position: string }>('SELECT position::text AS position FROM eventstore.publisher_checkpoint WHERE name = $1', [name]);
  return BigInt(r.rows[0]?.position ?? '0');
}

/** Stores `position` for `name`; never moves a checkpoint backwards (`GREATEST`). */
export async function saveCheckpoint(client: pg.ClientBase, name: string, position: bigint): Promise<void> {
  await client.query(
    `INSERT INTO eventstore.publisher_checkpoint (name, position) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET position = GREATEST(publisher_checkpoint.position, EXCLUDED.position), updated_at = now()`,
    [name, position.toString()],
  );
}

/** Tries the session-level advisory lock of publisher `name` once. @returns true when this session now holds it. */
export async function tryLock(client: pg.ClientBase, name: string): Promise<boolean> {
  const r = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [PUBLISHER_LOCK, name]);
  return r.rows[0]?.locked === true;
}

/** Releases the lock taken by {@link tryLock} (ending the session releases it too). */
export async function unlock(client: pg.ClientBase, name: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [PUBLISHER_LOCK, name]);
}
