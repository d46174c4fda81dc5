/**
 * Read queries of the PostgreSQL store. Positions and revisions travel as text and become `BigInt`s; `data` and
 * `metadata` are parsed by the driver (jsonb).
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
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
  /** `created_at` in epoch milliseconds, truncated (what a `Date` holds), as decimal text. */
  created_ms: string;
}

// Order by the qualified columns: the text aliases below would otherwise sort as strings ('10' < '9').
// `created_at` travels as epoch milliseconds: a number to parse instead of the driver's timestamp text parsing,
// which took a tenth of a rebuild's decoding time.
const COLUMNS =
  'global_position::text AS global_position, id::text AS id, stream_name, revision::text AS revision, type, version, data, metadata, ' +
  'trunc(extract(epoch FROM created_at) * 1000)::bigint::text AS created_ms';

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    streamName: row.stream_name,
    revision: BigInt(row.revision),
    globalPosition: BigInt(row.global_position),
    occurredAt: new Date(Number(row.created_ms)),
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
  const { sql, params } = readAllQuery(COLUMNS, options);
  const r = await pool.query<EventRow>(sql, params);
  return r.rows.map(toRecorded);
}

/** The `readAll` SELECT with `columns`, filters and limit. */
function readAllQuery(columns: string, options: ReadAllOptions): { sql: string; params: unknown[] } {
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
  const sql = `SELECT ${columns} FROM eventstore.events WHERE ${where.join(' AND ')} ORDER BY events.global_position LIMIT $${params.length}`;
  return { sql, params };
}

/**
 * A stored event with its payloads as JSON text, as {@link readAllRaw} returns it: nothing is parsed, so bulk
 * exports (the operator CLI's replay) can copy payloads through without a `JSON.parse`/`JSON.stringify` round trip.
 */
export interface RawRecordedEvent {
  /** Global position, decimal. */
  globalPosition: string;
  id: string;
  streamName: string;
  /** Stream revision, decimal. */
  revision: string;
  type: string;
  /** Schema version as stored (NOT upcast). */
  version: number;
  /** `created_at` in UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ` (what `Date.prototype.toISOString` gives for `occurredAt`). */
  occurredAt: string;
  /** `data` as PostgreSQL's jsonb text (valid JSON, keys in jsonb order). */
  data: string;
  /** `metadata` as jsonb text. */
  metadata: string;
}

/** A {@link RawRecordedEvent} decoded: the payloads parsed, positions as `BigInt`s, the time as a `Date`. */
export function recordedFromRaw(r: RawRecordedEvent): RecordedEvent {
  return {
    id: r.id,
    type: r.type,
    version: r.version,
    streamName: r.streamName,
    revision: BigInt(r.revision),
    globalPosition: BigInt(r.globalPosition),
    occurredAt: new Date(r.occurredAt),
    data: JSON.parse(r.data) as unknown,
    metadata: JSON.parse(r.metadata) as RecordedEvent['metadata'],
  };
}

const RAW_COLUMNS =
  'global_position::text AS "globalPosition", id::text AS id, stream_name AS "streamName", revision::text AS revision, type, version, ' +
  `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "occurredAt", data::text AS data, metadata::text AS metadata`;

/**
 * {@link readAll} without decoding: same filters, order, paging and visibility rules, rows as {@link RawRecordedEvent}.
 * Not part of the event-store port (a PostgreSQL-only fast path for bulk export).
 */
export async function readAllRaw(pool: pg.Pool, options: ReadAllOptions = {}): Promise<RawRecordedEvent[]> {
  const { sql, params } = readAllQuery(RAW_COLUMNS, options);
  const r = await pool.query<RawRecordedEvent>(sql, params);
  return r.rows;
}

/** A stored event already rendered as its JSON wire envelope by PostgreSQL (see {@link readAllJsonLines}). */
export interface JsonLineRow {
  /** Global position, decimal. */
  globalPosition: string;
  type: string;
  /** Schema version as stored (NOT upcast). */
  version: number;
  /** Whether `metadata` (as JSON text) matches the caller's case-insensitive pattern (false without one). */
  metadataMatches: boolean;
  /**
   * `{"id","type","version","streamName","revision","globalPosition","occurredAt","data","metadata"}` as JSON text:
   * the wire envelope of `toWire` (@eventcast/events) with the payloads as stored.
   */
  line: string;
}

const LINE_COLUMN = `'{"id":"' || id::text || '","type":' || to_json(type)::text || ',"version":' || version::text ||
  ',"streamName":' || to_json(stream_name)::text || ',"revision":"' || revision::text || '","globalPosition":"' || global_position::text ||
  '","occurredAt":"' || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '","data":' || data::text ||
  ',"metadata":' || metadata::text || '}'`;

/**
 * {@link readAll} with every event rendered as one JSON text by PostgreSQL (its formatting then runs on the
 * database's core, and the client decodes one string per row). Same filters, order, paging and visibility.
 * Not part of the event-store port (a PostgreSQL-only fast path for bulk export).
 * @param metadataPattern a POSIX regular expression tested case-insensitively against `metadata::text`
 *   (`metadataMatches`), e.g. to find events whose metadata needs redaction.
 */
export async function readAllJsonLines(pool: pg.Pool, options: ReadAllOptions = {}, metadataPattern?: string): Promise<JsonLineRow[]> {
  const flag = metadataPattern === undefined ? 'false' : `metadata::text ~* ${pgLiteral(metadataPattern)}`;
  const columns = `global_position::text AS "globalPosition", type, version, ${flag} AS "metadataMatches", ${LINE_COLUMN} AS line`;
  const { sql, params } = readAllQuery(columns, options);
  const r = await pool.query<JsonLineRow>(sql, params);
  return r.rows;
}

/** Options of {@link copyJsonLines}. */
export interface CopyJsonLinesOptions {
  /** Exclusive lower bound (global position). */
  after: bigint;
  /** Inclusive upper bound (global position). */
  until: bigint;
  /** Only these event types. */
  eventTypes?: readonly string[];
  /** Only streams of these categories (the indexed `category` column). */
  categories?: readonly string[];
  /**
   * Which lines the caller wants to post-process itself: every line is plain (its JSON envelope) EXCEPT lines of
   * events whose `(type, version)` is not listed in `plain` (types missing from it use `otherTypesPlain`), or, with
   * `safeMetadataKeys`, whose metadata has another top-level key or any nested object or array (its text holds a
   * `{` or `[` after the first character; a false positive only marks): those are prefixed with `!` (a JSON line
   * never starts with one). Without `mark`, no line is prefixed.
   */
  mark?: { plain: ReadonlyMap<string, number>; otherTypesPlain: boolean; safeMetadataKeys?: readonly string[] };
}

/**
 * Streams the events of `(after, until]` (filtered, in position order) as JSON Lines rendered by PostgreSQL, through
 * `COPY (SELECT …) TO STDOUT` (pg-copy-streams): the bytes come as PostgreSQL sends them, no row is decoded in this
 * process. Each line is the wire envelope of `toWire` (@eventcast/events) with the payloads as stored, ended by
 * `\n` (the CSV format with a quote and a delimiter that never occur in JSON text — PostgreSQL escapes control
 * characters in JSON — copies the text unchanged). `sink` is awaited for each chunk (chunks end anywhere, not at
 * line ends): back-pressure reaches the socket, memory stays bounded by a few chunks.
 * Not part of the event-store port (a PostgreSQL-only fast path for bulk export).
 * @returns the number of lines (events) copied.
 * @throws database errors and errors of `sink` (the connection is then discarded).
 */
export async function copyJsonLines(pool: pg.Pool, options: CopyJsonLinesOptions, sink: (chunk: Buffer) => Promise<void> | void): Promise<number> {
  const where = [`global_position > ${BigInt(options.after).toString()}`, `global_position <= ${BigInt(options.until).toString()}`];
  if (options.eventTypes) where.push(`type = ANY(${pgTextArray(options.eventTypes)})`);
  if (options.categories) where.push(`category = ANY(${pgTextArray(options.categories)})`);
  let line = COPY_LINE;
  const mark = options.mark;
  if (mark) {
    const cases = [...mark.plain].map(([type, version]) => `WHEN ${pgLiteral(type)} THEN version <> ${Number(version)}`).join(' ');
    const byType = `CASE type ${cases} ELSE ${mark.otherTypesPlain ? 'false' : 'true'} END`;
    const byMetadata =
      mark.safeMetadataKeys === undefined
        ? ''
        : ` OR (metadata - ${pgTextArray(mark.safeMetadataKeys)}) <> '{}'::jsonb OR strpos(substr(mt, 2), '{') > 0 OR strpos(mt, '[') > 0`;
    line = `CASE WHEN ${byType}${byMetadata} THEN '!' ELSE '' END || ${COPY_LINE}`;
  }
  // OFFSET 0 keeps the subquery (metadata rendered once, `mt`) and its index order.
  const text =
    `COPY (SELECT ${line} FROM (SELECT events.*, COALESCE(metadata, '{}'::jsonb)::text AS mt FROM eventstore.events ` +
    `WHERE ${where.join(' AND ')} ORDER BY events.global_position OFFSET 0) AS e) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`;
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    const stream = client.query(copyTo(text));
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) await sink(chunk);
    } catch (err) {
      stream.destroy();
      throw err;
    }
    return stream.rowCount;
  } catch (err) {
    failed = err instanceof Error ? err : new Error('COPY failed');
    throw err;
  } finally {
    // A connection left mid-COPY is unusable: releasing with an error discards it.
    client.release(failed);
  }
}

const COPY_LINE = LINE_COLUMN.replace("metadata::text || '}'", "mt || '}'");

/** A PostgreSQL `text[]` literal expression of `items`. */
function pgTextArray(items: readonly string[]): string {
  return `ARRAY[${items.map(pgLiteral).join(',')}]::text[]`;
}

/** A PostgreSQL string literal (standard-conforming strings: only `'` needs doubling; no backslash escapes). */
function pgLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The last committed global position (0n when the store is empty): the counter row, never ahead of a commit. */
export async function headPosition(pool: pg.Pool): Promise<bigint> {
  const r = await pool.query<{ value: string }>('SELECT value::text AS value FROM eventstore.global_position');
  return BigInt(r.rows[0]?.value ?? '0');
}
