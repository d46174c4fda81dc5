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
-- Group commit (group-commit.ts): the appends of a group, in order, in ONE statement (one round trip). Appends are
-- flattened: append i has p_counts[i] events, its events follow those of append i - 1 in the event arrays. Per append:
-- advance the stream's revision if p_expected[i] holds ('any', 'no_stream', 'stream_exists' or a revision), else
-- report the actual revision (NULL: no stream) and write nothing for it; then insert its events at the next positions.
-- The counter row is locked first (one lock order for every writer) and moved once; pg_notify once.
CREATE OR REPLACE FUNCTION eventstore.append_group(
  p_streams text[], p_categories text[], p_counts int[], p_expected text[],
  p_ids uuid[], p_types text[], p_versions int[], p_data jsonb[], p_metadata jsonb[])
RETURNS TABLE (o_ok boolean, o_revision bigint, o_position bigint, o_actual bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  pos bigint;
  start_pos bigint;
  rev bigint;
  off int := 0;
  n int;
  x text;
BEGIN
  SELECT g.value INTO pos FROM eventstore.global_position g FOR UPDATE;
  start_pos := pos;
  FOR i IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
    n := p_counts[i];
    x := p_expected[i];
    rev := NULL;
    IF x = 'no_stream' THEN
      INSERT INTO eventstore.streams AS s (stream_name, category, revision) VALUES (p_streams[i], p_categories[i], n - 1)
        ON CONFLICT (stream_name) DO NOTHING RETURNING s.revision INTO rev;
    ELSIF x = 'any' THEN
      INSERT INTO eventstore.streams AS s (stream_name, category, revision) VALUES (p_streams[i], p_categories[i], n - 1)
        ON CONFLICT (stream_name) DO UPDATE SET revision = s.revision + n RETURNING s.revision INTO rev;
    ELSIF x = 'stream_exists' THEN
      UPDATE eventstore.streams AS s SET revision = s.revision + n WHERE s.stream_name = p_streams[i] RETURNING s.revision INTO rev;
    ELSE
      UPDATE eventstore.streams AS s SET revision = s.revision + n WHERE s.stream_name = p_streams[i] AND s.revision = x::bigint
        RETURNING s.revision INTO rev;
    END IF;
    IF rev IS NULL THEN
      SELECT s.revision INTO rev FROM eventstore.streams AS s WHERE s.stream_name = p_streams[i];
      o_ok := false; o_revision := NULL; o_position := NULL; o_actual := rev;
    ELSE
      INSERT INTO eventstore.events (global_position, id, stream_name, category, revision, type, version, data, metadata)
        SELECT pos + k, p_ids[off + k], p_streams[i], p_categories[i], rev - n + k, p_types[off + k], p_versions[off + k],
               p_data[off + k], p_metadata[off + k]
        FROM generate_series(1, n) AS k;
      pos := pos + n;
      o_ok := true; o_revision := rev; o_position := pos; o_actual := NULL;
    END IF;
    off := off + n;
    RETURN NEXT;
  END LOOP;
  IF pos > start_pos THEN
    UPDATE eventstore.global_position SET value = pos;
    PERFORM pg_notify('${NOTIFY_CHANNEL}', pos::text);
  END IF;
END
$fn$;
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
 * `publisher_checkpoint` (one row per publisher name, see `publisher.ts`); function `append_group` (the group
 * commit's one statement, see `group-commit.ts`).
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
