/**
 * Helpers of the PostgreSQL store's append (the append itself is `group-commit.ts`): the check of an empty append
 * and the mapping of a duplicate event id.
 */
import type pg from 'pg';
import { DuplicateEventIdError, WrongExpectedRevisionError, type AppendResult, type ExpectedRevision } from '../port.js';
import type { PreparedEvent } from '../prepare.js';

/** Current last revision of a stream, or `'no_stream'`. */
async function actualRevision(client: pg.PoolClient, stream: string): Promise<bigint | 'no_stream'> {
  const r = await client.query<{ revision: string }>('SELECT revision::text AS revision FROM eventstore.streams WHERE stream_name = $1', [stream]);
  const row = r.rows[0];
  return row ? BigInt(row.revision) : 'no_stream';
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
