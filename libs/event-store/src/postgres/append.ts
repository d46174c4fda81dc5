/**
 * The append transaction of the PostgreSQL store: optimistic concurrency on `eventstore.streams`, then gap-free
 * global positions from the single counter row `eventstore.global_position`.
 */
import type pg from 'pg';
import { categoryOf } from '@eventcast/events';
import { DuplicateEventIdError, WrongExpectedRevisionError, type AppendResult, type ExpectedRevision } from '../port.js';
import type { PreparedEvent } from '../prepare.js';
import { NOTIFY_CHANNEL } from './schema.js';

/** Current last revision of a stream, or `'no_stream'`. */
async function actualRevision(client: pg.PoolClient, stream: string): Promise<bigint | 'no_stream'> {
  const r = await client.query<{ revision: string }>('SELECT revision::text AS revision FROM eventstore.streams WHERE stream_name = $1', [stream]);
  const row = r.rows[0];
  return row ? BigInt(row.revision) : 'no_stream';
}

/**
 * Moves the stream's revision forward by `n` if `expected` holds, locking the stream row until commit
 * (an `UPDATE … WHERE revision = expected` takes the same row lock as `SELECT … FOR UPDATE` and re-checks the
 * condition against the winner's committed row, so of two racing writers exactly one succeeds).
 * @returns the new last revision of the stream.
 * @throws {WrongExpectedRevisionError} when `expected` does not hold.
 */
async function advanceStream(client: pg.PoolClient, stream: string, n: number, expected: ExpectedRevision): Promise<bigint> {
  const category = categoryOf(stream);
  let r: pg.QueryResult<{ revision: string }>;
  if (expected === 'no_stream') {
    r = await client.query(
      `INSERT INTO eventstore.streams (stream_name, category, revision) VALUES ($1, $2, $3 - 1)
       ON CONFLICT (stream_name) DO NOTHING RETURNING revision::text AS revision`,
      [stream, category, n],
    );
  } else if (expected === 'any') {
    r = await client.query(
      `INSERT INTO eventstore.streams AS s (stream_name, category, revision) VALUES ($1, $2, $3 - 1)
       ON CONFLICT (stream_name) DO UPDATE SET revision = s.revision + $3 RETURNING revision::text AS revision`,
      [stream, category, n],
    );
  } else if (expected === 'stream_exists') {
    r = await client.query(
      'UPDATE eventstore.streams SET revision = revision + $2 WHERE stream_name = $1 RETURNING revision::text AS revision',
      [stream, n],
    );
  } else {
    r = await client.query(
      `UPDATE eventstore.streams SET revision = revision + $2 WHERE stream_name = $1 AND revision = $3
       RETURNING revision::text AS revision`,
      [stream, n, expected.toString()],
    );
  }
  const row = r.rows[0];
  if (!row) throw new WrongExpectedRevisionError(stream, expected, await actualRevision(client, stream));
  return BigInt(row.revision);
}

/**
 * Runs the append inside an open transaction on `client` (the caller commits or rolls back).
 *
 * Positions come from `UPDATE eventstore.global_position SET value = value + n RETURNING value`, executed after the
 * revision check and held (row lock) until commit. Every append therefore takes its positions only after the
 * previous appender committed or rolled back: positions are assigned in commit order, a rollback returns its range
 * to the next writer (no gaps), and a reader that sees position p has already seen every position below p.
 * @throws {WrongExpectedRevisionError} see {@link advanceStream}.
 * @throws {DuplicateEventIdError} when an event id is already stored or repeated in the batch (PostgreSQL unique
 *   violation 23505 on `events_id_key`); other driver errors as is.
 */
export async function appendInTransaction(
  client: pg.PoolClient,
  stream: string,
  events: readonly PreparedEvent[],
  expected: ExpectedRevision,
): Promise<AppendResult> {
  const n = events.length;
  const lastRevision = await advanceStream(client, stream, n, expected);
  const counter = await client.query<{ value: string }>(
    'UPDATE eventstore.global_position SET value = value + $1 RETURNING value::text AS value',
    [n],
  );
  const last = BigInt(counter.rows[0]?.value ?? '0');
  await client
    .query(
    `INSERT INTO eventstore.events (global_position, id, stream_name, category, revision, type, version, data, metadata)
     SELECT $1::bigint + t.ord, t.id, $3, $4, $2::bigint + t.ord, t.type, t.version, t.data, t.metadata
     FROM unnest($5::uuid[], $6::text[], $7::int[], $8::jsonb[], $9::jsonb[])
          WITH ORDINALITY AS t(id, type, version, data, metadata, ord)`,
    [
      (last - BigInt(n)).toString(),
      (lastRevision - BigInt(n)).toString(),
      stream,
      categoryOf(stream),
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => e.version),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => JSON.stringify(e.metadata)),
    ],
  )
    .catch((err: unknown) => {
      throw duplicateIdError(err, stream, events) ?? err;
    });
  await client.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, last.toString()]);
  return { nextExpectedRevision: lastRevision, lastGlobalPosition: last };
}

/**
 * Handles an empty batch: checks `expected` without writing.
 * @returns the current revision (`-1n` for a missing stream) and the current head position.
 * @throws {WrongExpectedRevisionError} when `expected` does not hold.
 */
export async function checkOnly(client: pg.PoolClient, stream: string, expected: ExpectedRevision): Promise<AppendResult> {
  const actual = await actualRevision(client, stream);
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 'no_stream') ||
    (expected === 'stream_exists' && actual !== 'no_stream') ||
    (typeof expected === 'bigint' && actual === expected);
  if (!ok) throw new WrongExpectedRevisionError(stream, expected, actual);
  const head = await client.query<{ value: string }>('SELECT value::text AS value FROM eventstore.global_position');
  return { nextExpectedRevision: actual === 'no_stream' ? -1n : actual, lastGlobalPosition: BigInt(head.rows[0]?.value ?? '0') };
}

/** Name of the unique constraint on `eventstore.events.id` (PostgreSQL's default `<table>_<column>_key`). */
const EVENT_ID_CONSTRAINT = 'events_id_key';

/**
 * Maps PostgreSQL's unique violation on the event id (SQLSTATE 23505, constraint {@link EVENT_ID_CONSTRAINT}) to a
 * {@link DuplicateEventIdError} naming the id from the error's detail (`Key (id)=(<uuid>) already exists.`), or the
 * batch's ids when the detail cannot be read. @returns null for any other error.
 */
export function duplicateIdError(err: unknown, stream: string, events: readonly PreparedEvent[]): DuplicateEventIdError | null {
  const e = err as { code?: unknown; constraint?: unknown; detail?: unknown };
  if (e.code !== '23505' || e.constraint !== EVENT_ID_CONSTRAINT) return null;
  const match = typeof e.detail === 'string' ? /\(id\)=\(([0-9a-f-]{36})\)/i.exec(e.detail) : null;
  return new DuplicateEventIdError(stream, match?.[1] ? [match[1]] : events.map((ev) => ev.id));
}
