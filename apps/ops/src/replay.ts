/**
 * `eventcast-ops replay`: the global event log (`$all`) as JSON Lines or CSV, filtered, upcast to the current
 * schema versions, redacted by default.
 *
 * Speed: with the PostgreSQL store, unfiltered-by-content JSON Lines (no `since`, stream prefix or channel filter) go
 * through `copyJsonLines`: PostgreSQL renders every line and streams position ranges through COPY, several ranges
 * in flight; this process copies the bytes through and only decodes the lines the store marks (older versions to
 * upcast, types or metadata that may need redaction) — see {@link copyReplay}. Otherwise,
 * pages of `batchSize` events (default 10000) are read through the event-store port with the next page
 * prefetched while the current one is written; each page becomes ONE string written once to the output (awaiting
 * `drain` when the stream's buffer is full: back-pressure without a per-event await). Events already at their
 * type's current version were validated on append, so only older versions go through the catalog's
 * `validateRecorded` (upcasters, then the zod schema); `validateAll` forces it for every event.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { eventVersions, fromWire, idOf, isEventType, toWire, validateRecorded, type RecordedEvent } from '@eventcast/events';
import { recordedFromRaw, type CopyJsonLinesOptions, type EventStore, type JsonLineRow, type RawRecordedEvent, type ReadAllOptions } from '@eventcast/event-store';
import { parallelRangePages, prefetchPages } from './pages.js';
import { redactEvent, typeMayHoldSecrets } from './redact.js';

/** Bad replay input (a filter that cannot be resolved): a usage error of the CLI. */
export class ReplayUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayUsageError';
  }
}

/** Options of {@link replay}. Positions are global positions (1-based). */
export interface ReplayOptions {
  /** First position to output (inclusive; default 1). */
  fromPosition?: bigint;
  /** Last position to output (inclusive; default: the end of the log, or forever with `follow`). */
  toPosition?: bigint;
  /** Only events that occurred at or after this time (the start is found by binary search over positions). */
  since?: Date;
  /** Only these event types. */
  types?: readonly string[];
  /** Only streams of these categories (`chat`, `account`, …: the text before the first `-`). */
  categories?: readonly string[];
  /** Only streams whose name starts with this prefix (e.g. `chat-3f2a`). */
  streamPrefix?: string;
  /** Only events of this channel: a channel (= account) id, or a username resolved through `UsernameClaimed`. */
  channel?: string;
  format: 'jsonl' | 'csv';
  out: Writable;
  /** After the end of the log, keep streaming live events until `signal` aborts. */
  follow?: boolean;
  /** Output personal data and secrets as stored (the CLI checks the admin gate before). */
  unredacted?: boolean;
  /** Run every event through `validateRecorded`, not only older versions. */
  validateAll?: boolean;
  /** Events per read (default 10000). */
  batchSize?: number;
  /** Ends `follow` (and a long replay) cleanly. */
  signal?: AbortSignal;
  /** Called after each page with the last position read and the number of events written so far. */
  onProgress?: (position: bigint, written: number) => void;
}

/** Outcome of {@link replay}. */
export interface ReplayResult {
  /** Events written. */
  written: number;
  /** Events read (before the channel/time/prefix filters). */
  read: number;
  /** Last position read (0n when nothing was). */
  lastPosition: bigint;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The channel id of `channel`: itself when it is a UUID, else the account id of the `UsernameClaimed` event of that
 * username (case-insensitive).
 * @throws {ReplayUsageError} when no account has that username.
 */
export async function resolveChannel(store: Pick<EventStore, 'readAll'>, channel: string): Promise<string> {
  if (UUID.test(channel)) return channel.toLowerCase();
  const username = channel.toLowerCase();
  const claims = storeWithTypes(store, ['UsernameClaimed']);
  for await (const page of prefetchPages((after, limit) => claims.readAll({ after, limit }), (e) => e.globalPosition, 0n, 10_000)) {
    for (const e of page) {
      const d = e.data as { username?: unknown; accountId?: unknown };
      if (d.username === username && typeof d.accountId === 'string') return d.accountId;
    }
  }
  throw new ReplayUsageError(`unknown channel "${channel}": no account has that username (give a username or a channel id)`);
}

/** A readAll that always applies these type/category filters (pushed down to the store). */
function storeWithTypes(store: Pick<EventStore, 'readAll'>, eventTypes?: readonly string[], categories?: readonly string[]): Pick<EventStore, 'readAll'> {
  return {
    readAll: (o?: ReadAllOptions) =>
      store.readAll({ ...o, ...(eventTypes && eventTypes.length > 0 ? { eventTypes } : {}), ...(categories && categories.length > 0 ? { categories } : {}) }),
  };
}

/** Time of the event at `position`, or undefined past the end. */
async function timeAt(store: Pick<EventStore, 'readAll'>, position: bigint): Promise<number | undefined> {
  const [e] = await store.readAll({ after: position - 1n, limit: 1 });
  return e?.occurredAt.getTime();
}

/**
 * The first position whose event occurred at or after `since` minus one minute (append times follow positions up to
 * the commit order of concurrent appends, so the slack covers them; the exact cut is the time filter). Binary
 * search: O(log n) single-event reads.
 */
export async function positionAtTime(store: Pick<EventStore, 'readAll' | 'headPosition'>, since: Date): Promise<bigint> {
  const target = since.getTime() - 60_000;
  let lo = 1n;
  let hi = (await store.headPosition()) + 1n;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    const t = await timeAt(store, mid);
    if (t === undefined || t >= target) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

/** The PostgreSQL store's undecoded read (`PostgresEventStore.readAllRaw`), outside the port. */
interface RawReader {
  readAllRaw(options?: ReadAllOptions): Promise<RawRecordedEvent[]>;
}

/** The PostgreSQL store's pre-rendered JSON lines (`PostgresEventStore.readAllJsonLines`), outside the port. */
interface LineReader {
  readAllJsonLines(options?: ReadAllOptions, metadataPattern?: string): Promise<JsonLineRow[]>;
}

/** The PostgreSQL store's COPY export (`PostgresEventStore.copyJsonLines`), outside the port. */
interface CopyReader {
  copyJsonLines(options: CopyJsonLinesOptions, sink: (chunk: Buffer) => Promise<void> | void): Promise<number>;
}

function hasCopyLines<S extends object>(store: S): store is S & CopyReader {
  return typeof (store as Partial<CopyReader>).copyJsonLines === 'function';
}

/** Top-level metadata keys of the envelope (libs/events envelope.ts) that {@link redactEvent} never redacts. */
const SAFE_METADATA_KEYS = ['correlationId', 'causationId', 'actorId'];

/**
 * For {@link copyJsonLines}: the catalog types whose stored lines can be copied through unchanged, with their
 * current version (older versions need upcasting); with redaction, only types whose current schema holds nothing
 * redacted ({@link typeMayHoldSecrets}), and unknown types are never plain.
 */
function plainLines(redact: boolean): NonNullable<CopyJsonLinesOptions['mark']> {
  const plain = new Map<string, number>();
  for (const [type, version] of Object.entries(eventVersions)) if (!(redact && typeMayHoldSecrets(type))) plain.set(type, version);
  if (!redact) return { plain, otherTypesPlain: true };
  const safe = SAFE_METADATA_KEYS.filter((k) => redactEvent({ type: '', version: 1, id: '', streamName: '', revision: 0n, globalPosition: 0n, occurredAt: new Date(0), data: null, metadata: { [k]: 'x' } }).metadata[k] === 'x');
  return { plain, otherTypesPlain: false, safeMetadataKeys: safe };
}

/** Bytes per write of {@link copyReplay}. */
const WRITE_BYTES = 256 * 1024;

/** Positions per COPY of {@link copyReplay}; the ranges after the current one are buffered (≈ 650 bytes an event). */
const COPY_RANGE = 20_000;

/** COPYs in flight in {@link copyReplay}: the current one and two buffering (keeps two busy when one finishes early). */
const COPY_DEPTH = 3;

/**
 * JSON Lines replay of `(after, until ?? head]` through the store's COPY export, in ranges of {@link COPY_RANGE}
 * positions with {@link COPY_DEPTH} COPYs in flight (PostgreSQL renders the next ranges on other cores while the current
 * one is written; their bytes are held in memory until their turn, so memory is bounded by COPY_DEPTH − 1 ranges). Lines marked
 * `!` by the store go through `exact` (parse, upcast, redact); all others are written as the bytes PostgreSQL sent.
 * Repeats until the head stops moving (events appended meanwhile), or stops at `until`.
 * @returns the last position covered.
 * @throws store errors, errors of `exact` (e.g. an event the catalog cannot upcast) and of `write`.
 */
async function copyReplay(
  store: CopyReader & Pick<EventStore, 'headPosition'>,
  o: {
    after: bigint;
    until?: bigint;
    eventTypes?: readonly string[];
    categories?: readonly string[];
    redact: boolean;
    exact: (line: string) => string;
    write: (chunk: Buffer | string) => Promise<void>;
    signal?: AbortSignal;
    onRange: (position: bigint, rows: number) => void;
  },
): Promise<{ position: bigint }> {
  const mark = plainLines(o.redact);
  // COPY delivers about one row per chunk: gather them into writes of ≥ WRITE_BYTES (one syscall each, not per row).
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  const flush = async (): Promise<void> => {
    if (gatheredBytes === 0) return;
    const chunk = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered, gatheredBytes);
    gathered = [];
    gatheredBytes = 0;
    await o.write(chunk);
  };
  const gather = async (chunk: Buffer | string): Promise<void> => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    gathered.push(b);
    gatheredBytes += b.length;
    if (gatheredBytes >= WRITE_BYTES) await flush();
  };
  const split = markedLineSplitter(o.exact, gather);
  const filters = { ...(o.eventTypes ? { eventTypes: o.eventTypes } : {}), ...(o.categories ? { categories: o.categories } : {}), mark };
  let position = o.after;
  for (;;) {
    const head = await store.headPosition();
    const end = o.until !== undefined && o.until < head ? o.until : head;
    if (end <= position || o.signal?.aborted) return { position };
    /** One COPY: buffers its chunks until it becomes the current range, then writes them straight through. */
    interface Range {
      until: bigint;
      chunks: Buffer[];
      direct: boolean;
      discard: boolean;
      rows: Promise<number>;
    }
    const start = (after: bigint): Range => {
      const until = end - after > BigInt(COPY_RANGE) ? after + BigInt(COPY_RANGE) : end;
      const range: Range = { until, chunks: [], direct: false, discard: false, rows: Promise.resolve(0) };
      range.rows = store.copyJsonLines({ after, until, ...filters }, (chunk) => {
        if (range.discard) return;
        if (range.direct) return split.push(chunk);
        range.chunks.push(chunk);
      });
      range.rows.catch(() => undefined); // awaited in turn; a failure before that must not be an unhandled rejection
      return range;
    };
    const inFlight: Range[] = [start(position)];
    try {
      while (inFlight.length > 0) {
        const current = inFlight[0]!;
        while (inFlight.length < COPY_DEPTH && inFlight[inFlight.length - 1]!.until < end) inFlight.push(start(inFlight[inFlight.length - 1]!.until));
        while (current.chunks.length > 0) await split.push(current.chunks.shift()!);
        current.direct = true;
        const rows = await current.rows;
        await split.end();
        await flush();
        inFlight.shift();
        position = current.until;
        o.onRange(position, rows);
        if (o.signal?.aborted) return { position };
      }
    } finally {
      for (const r of inFlight) {
        r.discard = true;
        r.chunks.length = 0;
        r.rows.catch(() => undefined);
      }
    }
    if (o.until !== undefined && position >= o.until) return { position };
  }
}

/**
 * Writes COPY chunks (cut anywhere) to `write`, replacing each line that starts with `!` by `exact(line without the
 * mark)`. Unmarked bytes are written as received (`Buffer.indexOf` finds the marks natively). Exported for tests.
 * `end()` rejects when the chunks stopped inside a marked line.
 */
export function markedLineSplitter(exact: (line: string) => string, write: (chunk: Buffer | string) => Promise<void>): { push(chunk: Buffer): Promise<void>; end(): Promise<void> } {
  const NL = 0x0a;
  const MARK = 0x21; // '!'
  const NL_MARK = Buffer.from('\n!');
  let atLineStart = true;
  /** Pieces of a marked line cut by a chunk boundary (its mark removed). */
  let pending: Buffer[] | null = null;
  return {
    async push(chunk: Buffer): Promise<void> {
      let i = 0;
      if (pending) {
        const j = chunk.indexOf(NL);
        if (j < 0) {
          pending.push(chunk);
          return;
        }
        pending.push(chunk.subarray(0, j));
        const line = Buffer.concat(pending).toString('utf8');
        pending = null;
        await write(exact(line));
        i = j + 1;
        atLineStart = true;
      }
      while (i < chunk.length) {
        let m: number;
        if (atLineStart && chunk[i] === MARK) m = i;
        else {
          const k = chunk.indexOf(NL_MARK, i);
          m = k < 0 ? -1 : k + 1;
        }
        if (m < 0) {
          await write(chunk.subarray(i));
          atLineStart = chunk[chunk.length - 1] === NL;
          return;
        }
        if (m > i) await write(chunk.subarray(i, m));
        const j = chunk.indexOf(NL, m);
        if (j < 0) {
          pending = [chunk.subarray(m + 1)];
          atLineStart = false;
          return;
        }
        await write(exact(chunk.subarray(m + 1, j).toString('utf8')));
        i = j + 1;
        atLineStart = true;
      }
    },
    end(): Promise<void> {
      if (pending) return Promise.reject(new Error('COPY ended inside a line'));
      atLineStart = true;
      return Promise.resolve();
    },
  };
}

function hasLineReads<S extends object>(store: S): store is S & LineReader {
  return typeof (store as Partial<LineReader>).readAllJsonLines === 'function';
}

function hasRawReads<S extends object>(store: S): store is S & RawReader {
  return typeof (store as Partial<RawReader>).readAllRaw === 'function';
}

/**
 * Text that may hold a field {@link redactEvent} redacts (a superset of its rules, values included: a false positive
 * only sends the event down the decoding path, which redacts exactly).
 */
const SENSITIVE_JSON_TEXT = /password|secret|hash|ciphertext|e-?mail|remote_?address|ip_?address|viewer_?key|api_?key|authorization|cookie|token|ips?"/i;

/**
 * Renders raw rows. An event that is at its type's current version and holds nothing to redact is written by
 * string concatenation, its payload copied through as stored; every other event is decoded and goes through the
 * exact path (`slow`: upcast, redact, serialise). Filters on time, stream prefix and channel apply to both.
 */
function rawRenderer(o: {
  format: 'jsonl' | 'csv';
  redact: boolean;
  validateAll: boolean;
  sinceMs: number | undefined;
  streamPrefix: string | undefined;
  channelId: string | undefined;
  slow: (e: RecordedEvent) => string;
}): (page: readonly RawRecordedEvent[]) => { text: string; count: number } {
  const sinceIso = o.sinceMs === undefined ? undefined : new Date(o.sinceMs).toISOString();
  const quotedChannel = o.channelId === undefined ? undefined : `"${o.channelId}"`;
  return (page) => {
    let text = '';
    let count = 0;
    const rows: unknown[][] = [];
    for (const r of page) {
      if (sinceIso !== undefined && r.occurredAt < sinceIso) continue;
      if (o.streamPrefix !== undefined && !r.streamName.startsWith(o.streamPrefix)) continue;
      if (o.channelId !== undefined && idOf(r.streamName) !== o.channelId) {
        if (!r.data.includes(quotedChannel!)) continue;
        const d = JSON.parse(r.data) as { channelId?: unknown; accountId?: unknown } | null;
        if (d?.channelId !== o.channelId && d?.accountId !== o.channelId) continue;
      }
      count++;
      const exact =
        o.validateAll ||
        (isEventType(r.type) && r.version !== eventVersions[r.type]) ||
        (o.redact &&
          (isEventType(r.type) && r.version === eventVersions[r.type] ? typeMayHoldSecrets(r.type) : SENSITIVE_JSON_TEXT.test(r.data)) ||
          (o.redact && r.metadata.length > 2 && SENSITIVE_JSON_TEXT.test(r.metadata)));
      if (o.format === 'jsonl') {
        text += exact
          ? o.slow(recordedFromRaw(r))
          : `{"id":"${r.id}","type":${JSON.stringify(r.type)},"version":${r.version},"streamName":${JSON.stringify(r.streamName)},"revision":"${r.revision}","globalPosition":"${r.globalPosition}","occurredAt":"${r.occurredAt}","data":${r.data},"metadata":${r.metadata}}\n`;
      } else if (exact) {
        if (rows.length > 0) text += stringify(rows.splice(0));
        text += o.slow(recordedFromRaw(r));
      } else {
        rows.push([r.globalPosition, r.occurredAt, r.type, r.version, r.streamName, r.revision, r.id, r.data, r.metadata]);
      }
    }
    if (rows.length > 0) text += stringify(rows);
    return { text, count };
  };
}

/** Lines per write of the JSON Lines fast path. */
const CHUNK_LINES = 128;

/** CSV columns, in order. `data` and `metadata` are JSON text. */
export const CSV_COLUMNS = ['globalPosition', 'occurredAt', 'type', 'version', 'streamName', 'revision', 'id', 'data', 'metadata'] as const;

/** The event in the current version of its type (see the file comment). @throws {InvalidEventError}. */
function upcast(e: RecordedEvent, validateAll: boolean): RecordedEvent {
  if (!isEventType(e.type)) return e; // not in this catalog (e.g. written by a newer release): as stored
  if (!validateAll && e.version === eventVersions[e.type]) return e;
  return validateRecorded(e);
}

/**
 * Writes the log to `options.out` (see {@link ReplayOptions}); does not end the stream.
 * @throws {ReplayUsageError} for an unknown channel; {@link InvalidEventError} for a stored event the catalog
 *   cannot upcast; store errors; write errors of the output.
 */
export async function replay(store: Pick<EventStore, 'readAll' | 'headPosition' | 'subscribeToAll'>, options: ReplayOptions): Promise<ReplayResult> {
  const batchSize = options.batchSize ?? 10_000;
  const channelId = options.channel ? await resolveChannel(store, options.channel) : undefined;
  let start = options.fromPosition ?? 1n;
  if (options.since) {
    const p = await positionAtTime(store, options.since);
    if (p > start) start = p;
  }
  const sinceMs = options.since?.getTime();
  const until = options.toPosition;
  const keep = (e: RecordedEvent): boolean => {
    if (sinceMs !== undefined && e.occurredAt.getTime() < sinceMs) return false;
    if (options.streamPrefix !== undefined && !e.streamName.startsWith(options.streamPrefix)) return false;
    if (channelId !== undefined) {
      const d = e.data as { channelId?: unknown; accountId?: unknown } | null;
      if (d?.channelId !== channelId && d?.accountId !== channelId && idOf(e.streamName) !== channelId) return false;
    }
    return true;
  };
  const validateAll = options.validateAll === true;
  const redact = options.unredacted !== true;
  let headerDone = false;
  const render = (events: readonly RecordedEvent[]): string => {
    if (options.format === 'jsonl') {
      let s = '';
      for (const e of events) s += JSON.stringify(toWire(redact ? redactEvent(upcast(e, validateAll)) : upcast(e, validateAll))) + '\n';
      return s;
    }
    const rows = events.map((raw) => {
      const e = redact ? redactEvent(upcast(raw, validateAll)) : upcast(raw, validateAll);
      return [e.globalPosition.toString(), e.occurredAt.toISOString(), e.type, e.version, e.streamName, e.revision.toString(), e.id, JSON.stringify(e.data), JSON.stringify(e.metadata)];
    });
    const header = !headerDone;
    headerDone = true;
    return stringify(rows, { header, columns: [...CSV_COLUMNS] });
  };
  const out = options.out;
  const write = async (chunk: string): Promise<void> => {
    if (chunk.length === 0) return;
    if (!out.write(chunk)) await once(out, 'drain', options.signal ? { signal: options.signal } : {});
  };
  const source = storeWithTypes(store, options.types, options.categories);
  let written = 0;
  let read = 0;
  let last = start - 1n;
  if (options.format === 'csv') await write(render([]));
  const plain = options.since === undefined && options.streamPrefix === undefined && channelId === undefined;
  if (options.format === 'jsonl' && plain && !validateAll && hasCopyLines(store)) {
    // Fastest: PostgreSQL renders the lines and streams them through COPY; only marked lines (older versions, types
    // that may hold secrets, unusual metadata) are decoded here (see copyReplay).
    const r = await copyReplay(store, {
      after: last,
      ...(until !== undefined ? { until } : {}),
      ...(options.types?.length ? { eventTypes: options.types } : {}),
      ...(options.categories?.length ? { categories: options.categories } : {}),
      redact,
      exact: (line) => render([fromWire(JSON.parse(line))]),
      write: async (chunk) => {
        if (!out.write(chunk)) await once(out, 'drain', options.signal ? { signal: options.signal } : {});
      },
      ...(options.signal ? { signal: options.signal } : {}),
      onRange: (position, rows) => {
        read += rows;
        written += rows;
        last = position;
        options.onProgress?.(last, written);
      },
    });
    last = r.position;
  } else if (options.format === 'jsonl' && plain && hasLineReads(store)) {
    // Fastest: PostgreSQL renders each event's JSON line; this process only checks and concatenates.
    const lineRead = (after: bigint, limit: number) =>
      store.readAllJsonLines(
        { after, limit, ...(options.types?.length ? { eventTypes: options.types } : {}), ...(options.categories?.length ? { categories: options.categories } : {}) },
        redact ? SENSITIVE_JSON_TEXT.source : undefined,
      );
    const linePosition = (e: JsonLineRow) => BigInt(e.globalPosition);
    const onPage = async (page: JsonLineRow[]): Promise<void> => {
      read += page.length;
      last = linePosition(page[page.length - 1]!);
      // Written in chunks of CHUNK_LINES: small strings die young (one multi-megabyte string per page would live in
      // V8's large-object space until a full GC, and the heap would keep growing with the run).
      let text = '';
      let n = 0;
      for (const r of page) {
        const exact =
          validateAll ||
          r.metadataMatches ||
          (isEventType(r.type) ? r.version !== eventVersions[r.type] || (redact && typeMayHoldSecrets(r.type)) : redact);
        text += exact ? render([fromWire(JSON.parse(r.line))]) : `${r.line}\n`;
        if (++n === CHUNK_LINES) {
          await write(text);
          text = '';
          n = 0;
        }
      }
      written += page.length;
      await write(text);
      options.onProgress?.(last, written);
    };
    if (!options.types?.length && !options.categories?.length) {
      const head = await store.headPosition();
      const end = until !== undefined && until < head ? until : head;
      for await (const page of parallelRangePages(lineRead, linePosition, last, end, batchSize, 3)) {
        if (options.signal?.aborted) break;
        await onPage(page);
      }
    }
    if (!options.signal?.aborted && (until === undefined || last < until)) {
      for await (const page of prefetchPages(lineRead, linePosition, last, batchSize, until)) {
        if (options.signal?.aborted) break;
        await onPage(page);
      }
    }
  } else if (hasRawReads(store)) {
    const raw = rawRenderer({ format: options.format, redact, validateAll, sinceMs, streamPrefix: options.streamPrefix, channelId, slow: (e) => render([e]) });
    const rawSource: RawReader = {
      readAllRaw: (o) => store.readAllRaw({ ...o, ...(options.types?.length ? { eventTypes: options.types } : {}), ...(options.categories?.length ? { categories: options.categories } : {}) }),
    };
    const rawRead = (after: bigint, limit: number) => rawSource.readAllRaw({ after, limit });
    const rawPosition = (e: RawRecordedEvent) => BigInt(e.globalPosition);
    const onPage = async (page: RawRecordedEvent[]): Promise<void> => {
      read += page.length;
      last = rawPosition(page[page.length - 1]!);
      const { text, count } = raw(page);
      written += count;
      await write(text);
      options.onProgress?.(last, written);
    };
    // Unfiltered: the log up to the head in parallel position ranges; then (and when filtered) page by page.
    if (!options.types?.length && !options.categories?.length) {
      const head = await store.headPosition();
      const end = until !== undefined && until < head ? until : head;
      for await (const page of parallelRangePages(rawRead, rawPosition, last, end, batchSize, 3)) {
        if (options.signal?.aborted) break;
        await onPage(page);
      }
    }
    if (!options.signal?.aborted && (until === undefined || last < until)) {
      for await (const page of prefetchPages(rawRead, rawPosition, last, batchSize, until)) {
        if (options.signal?.aborted) break;
        await onPage(page);
      }
    }
  } else {
    for await (const page of prefetchPages((after, limit) => source.readAll({ after, limit }), (e) => e.globalPosition, start - 1n, batchSize, until)) {
      if (options.signal?.aborted) break;
      read += page.length;
      last = page[page.length - 1]!.globalPosition;
      const kept = page.filter(keep);
      written += kept.length;
      await write(render(kept));
      options.onProgress?.(last, written);
    }
  }
  if (options.follow && !options.signal?.aborted && (until === undefined || last < until)) {
    const sub = store.subscribeToAll({
      after: last,
      ...(options.types && options.types.length > 0 ? { eventTypes: options.types } : {}),
      ...(options.categories && options.categories.length > 0 ? { categories: options.categories } : {}),
    });
    const stop = () => void sub.close();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const e of sub) {
        read++;
        last = e.globalPosition;
        if (keep(e)) {
          written++;
          await write(render([e]));
        }
        options.onProgress?.(last, written);
        if (until !== undefined && last >= until) break;
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
      await sub.close();
    }
  }
  return { written, read, lastPosition: last < 0n ? 0n : last };
}
