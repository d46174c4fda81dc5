/**
 * Read queries of the PostgreSQL store. Positions and revisions travel as text and become `BigInt`s; `data` and
 * `metadata` are parsed by the driver (jsonb).
 */
import type pg from 'pg';
import type { EventMetadata, RecordedEvent } from '@eventcast/events';
import type { ReadAllOptions } from '../port.js';

/** Default page size of {@link readAll} and {@link readStream}. */
export const DEFAULT_LIMIT = 1000;

interface EventRow {
  global_position: string;
  id: string;
  stream_name: string;
  revision: string;
  type: string;
  version: number;
  data: unknown;
  metadata: EventMetadata | null;
  created_at: Date;
}

// Order by the qualified columns: the text aliases below would otherwise sort as strings ('10' < '9').
const COLUMNS =
  'global_position::text AS global_position, id::text AS id, stream_name, revision::text AS revision, type, version, data, metadata, created_at';

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    streamName: row.stream_name,
    revision: BigInt(row.revision),
    globalPosition: BigInt(row.global_position),
    occurredAt: row.created_at,
    data: row.data,
    metadata: row.metadata ?? {},
  };
}

/** Validates a page size: a positive integer. @throws {RangeError} otherwise. */
function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return limit;
}

/** Reads `stream` from revision `from` (inclusive, default 0), at most `limit` events (default unbounded). */
export async function readStream(pool: pg.Pool, stream: string, from = 0n, limit?: number): Promise<RecordedEvent[]> {
  const params: unknown[] = [stream, from.toString()];
  let sql = `SELECT ${COLUMNS} FROM eventstore.events WHERE stream_name = $1 AND revision >= $2 ORDER BY events.revision`;
  if (limit !== undefined) {
    params.push(checkLimit(limit));
    sql += ' LIMIT $3';
  }
  const r = await pool.query<EventRow>(sql, params);
  return r.rows.map(toRecorded);
}

/**
 * Reads the global log after `after` (exclusive), in position order, filtered by event types and stream categories
 * (the indexed `category` column), at most `limit` (default {@link DEFAULT_LIMIT}) events.
 * Only committed events are visible, and positions are assigned in commit order, so paging by the last position
 * never skips an event (see `append.ts`).
 */
export async function readAll(pool: pg.Pool, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
  const params: unknown[] = [(options.after ?? 0n).toString()];
  const where = ['global_position > $1'];
  if (options.eventTypes) {
    params.push(options.eventTypes);
    where.push(`type = ANY($${params.length}::text[])`);
  }
  if (options.categories) {
    params.push(options.categories);
    where.push(`category = ANY($${params.length}::text[])`);
  }
  params.push(checkLimit(options.limit ?? DEFAULT_LIMIT));
  const sql = `SELECT ${COLUMNS} FROM eventstore.events WHERE ${where.join(' AND ')} ORDER BY events.global_position LIMIT $${params.length}`;
  const r = await pool.query<EventRow>(sql, params);
  return r.rows.map(toRecorded);
}

/** The last committed global position (0n when the store is empty): the counter row, never ahead of a commit. */
export async function headPosition(pool: pg.Pool): Promise<bigint> {
  const r = await pool.query<{ value: string }>('SELECT value::text AS value FROM eventstore.global_position');
  return BigInt(r.rows[0]?.value ?? '0');
}
