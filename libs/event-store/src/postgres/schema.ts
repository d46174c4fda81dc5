/**
 * Schema of the PostgreSQL event store (`eventstore`), created by an idempotent {@link migrate}.
 */
import type pg from 'pg';

/** Channel of the `pg_notify` sent by every append; the payload is the last global position (decimal text). */
export const NOTIFY_CHANNEL = 'eventcast_events';

/** Advisory-lock key (two-int form, first half) that serialises concurrent `migrate()` calls. */
const MIGRATION_LOCK = 7_341_001;

const DDL = `
CREATE SCHEMA IF NOT EXISTS eventstore;
CREATE TABLE IF NOT EXISTS eventstore.streams (
  stream_name text PRIMARY KEY,
  category    text NOT NULL,
  revision    bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS eventstore.global_position (
  id    boolean PRIMARY KEY DEFAULT true CHECK (id),
  value bigint NOT NULL
);
INSERT INTO eventstore.global_position (id, value) VALUES (true, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS eventstore.events (
  global_position bigint PRIMARY KEY,
  id              uuid NOT NULL UNIQUE,
  stream_name     text NOT NULL,
  category        text NOT NULL,
  revision        bigint NOT NULL,
  type            text NOT NULL,
  version         integer NOT NULL,
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_name, revision)
);
CREATE INDEX IF NOT EXISTS events_category_position_idx ON eventstore.events (category, global_position);
CREATE INDEX IF NOT EXISTS events_type_position_idx ON eventstore.events (type, global_position);
CREATE TABLE IF NOT EXISTS eventstore.publisher_checkpoint (
  name       text PRIMARY KEY,
  position   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

/**
 * Creates schema `eventstore` with its tables and indexes when missing; safe to run on every start and from several
 * processes at once (a transaction-level advisory lock serialises the DDL, which `IF NOT EXISTS` alone does not).
 *
 * Tables: `streams` (one row per stream: last revision, category), `global_position` (the single counter row that
 * hands out gap-free positions), `events` (the log; unique `(stream_name, revision)` and `id`), and
 * `publisher_checkpoint` (one row per publisher name, see `publisher.ts`).
 * @throws the driver's error when PostgreSQL is unreachable or the user may not create the schema.
 */
export async function migrate(pool: pg.Pool): Promise<void> {
  await applyDdlLocked(pool, MIGRATION_LOCK, DDL);
}

/**
 * Runs idempotent DDL (`CREATE … IF NOT EXISTS`) in one transaction under the transaction-level advisory lock
 * `(lockKey, 0)`, so several processes starting at once apply it one after the other instead of racing on the
 * catalog (concurrent `CREATE TABLE IF NOT EXISTS` can fail with a unique violation in pg_type).
 * @throws the driver's error (after a rollback) when PostgreSQL is unreachable or refuses the DDL.
 */
export async function applyDdlLocked(pool: pg.Pool, lockKey: number, ddl: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [lockKey]);
    await client.query(ddl);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
