/**
 * Blue/green rebuild and verification of read models.
 *
 * Rebuild of a unit (see groups.ts): the unit's projections are replayed from position 0 by the same Projection
 * classes, through a {@link ProjectionRunner} bound to a build schema `readmodels_build_<key>` (tables created by the
 * same migrations, redirected by {@link SchemaRedirectPlugin}), in batches of thousands of events per transaction,
 * while the live tables keep serving and the live projector keeps applying. Given the database URL
 * ({@link RebuilderOptions}), build batches run on the rebuilder's own connections (build-connection.ts), where the
 * chat-message projection bulk-loads its rows with `COPY … FROM STDIN` inside the batch transaction, and projections with a
 * look-ahead (`Projection.buildLookahead`, see prepareLookahead) get the events of some types up to the head before the
 * build starts, so they can write rows in their final state. The build schema has its own
 * `projection_checkpoints`, committed with every batch: a rebuild that dies resumes from there when rerun.
 * Once the build has caught up with the head, ONE transaction switches:
 *   1. `SELECT … FOR UPDATE` of the unit's live checkpoint rows, in name order (the row locks the live
 *      {@link ProjectionRunner} takes first in each of its transactions, so the live projector waits here);
 *   2. applies the events appended since the last build batch to the build tables;
 *   3. `ALTER TABLE readmodels.t SET SCHEMA readmodels_old_<key>` and `ALTER TABLE <build>.t SET SCHEMA readmodels`
 *      for each table of the unit (indexes and constraints move with their table);
 *   4. sets the live checkpoints to the build's and drops the old tables and the build schema.
 * After the commit the live projector's pending transaction sees the moved checkpoint (it skips what the build
 * applied) and its next statements resolve `readmodels.t` to the new tables: nothing is cached across
 * transactions, so it needs no restart. Readers never see an empty or half-built read model: until the commit they
 * read the old tables, afterwards the complete new ones.
 *
 * Verify builds a unit into `readmodels_verify_<key>` up to the live checkpoint, then, holding the live checkpoint
 * rows (`FOR SHARE`: the live projector waits), applies what the live projector applied meanwhile and diffs each
 * table row by row (see diff.ts).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { eventVersions, isEventType, validateRecorded, type RecordedDomainEvent, type RecordedEvent } from '@eventcast/events';
import type { EventStore } from '@eventcast/event-store';
import { readModelMigrations } from '../migrations/migrations.js';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import type { Projection } from '../projections/projection.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { BuildConnection } from './build-connection.js';
import { diffTables, type TableDiff } from './diff.js';
import { rebuildUnit, RebuildUsageError, unitSchema, type RebuildUnit } from './groups.js';
import { SchemaRedirectPlugin } from './schema-redirect.js';
import { clearRebuildStatus, recordRebuildFailure, recordRebuildProgress } from './status.js';

/** What the rebuilder reads from the event store: the global log and its head. */
export type RebuildEventSource = Pick<EventStore, 'readAll' | 'headPosition'>;

/** Progress of a rebuild or verify, reported about once per second and at each phase change. */
export interface RebuildProgress {
  phase: 'build' | 'switch' | 'done';
  /** Names of the unit's projections. */
  names: readonly string[];
  /** Build checkpoint (global position). */
  position: bigint;
  /** Store head when last read (the build heads for it; it moves under live traffic). */
  head: bigint;
  /** Position the build started from (0n, or the checkpoint it resumed at). */
  startedAt: bigint;
  /** Events per second since the start of this run. */
  eventsPerSecond: number;
  /** Seconds to reach `head` at the current rate; null before a rate is known. */
  etaSeconds: number | null;
}

/** Options of {@link ProjectionRebuilder.rebuild} and {@link ProjectionRebuilder.verify}. */
export interface RebuildOptions {
  /** Events per read and per build transaction (default {@link DEFAULT_REBUILD_BATCH}). */
  batchSize?: number;
  /** Called with progress (see {@link RebuildProgress}). */
  onProgress?: (p: RebuildProgress) => void;
  /** Aborting stops between two batches with the signal's reason; committed batches stay (resumable). */
  signal?: AbortSignal;
  /**
   * Apply the build in two lanes, the unit's independent parts split between them, each lane on its own connection
   * and up to two pages ahead of the other (see ParallelRunners.enqueue). Default: true when the rebuilder has the
   * database URL (its own build connections, {@link RebuilderOptions}), else false. On the 2-core development
   * machine, 200,000 events: ≈ 27,000 events/s with lanes against ≈ 24,000 in one lane (both with COPY).
   */
  parallel?: boolean;
  /** Start from scratch even when a build schema to resume exists (rebuild only). */
  restart?: boolean;
  /** `lock_timeout` of the switch transaction, ms (default 10000); the switch retries 3 times after a timeout. */
  switchLockTimeoutMs?: number;
}

/** Outcome of a rebuild. */
export interface RebuildResult {
  names: readonly string[];
  tables: readonly string[];
  /** The live checkpoint after the switch. */
  position: bigint;
  /** Whether the build resumed from an earlier, interrupted run, and from which position. */
  resumedFrom: bigint | null;
  /** Events read and applied by this run (build and switch). */
  events: number;
  seconds: number;
}

/** Outcome of a verify: equal when `differences` is empty. */
export interface VerifyResult {
  names: readonly string[];
  tables: readonly string[];
  /** The live checkpoint the comparison was made at. */
  position: bigint;
  tablesCompared: TableDiff[];
  /** True when every table is equal. */
  equal: boolean;
}

/** Another rebuild or verify of the same unit holds its lock. */
export class RebuildBusyError extends Error {
  constructor(schema: string) {
    super(`another rebuild/verify of ${schema} is running (advisory lock held); wait for it or stop it`);
    this.name = 'RebuildBusyError';
  }
}

const BUILD_INFO = 'eventcast_build_info';
/** Definitions of the secondary indexes dropped for the bulk load of a build (see deferIndexes). */
const BUILD_INDEXES = 'eventcast_build_indexes';
/**
 * Secondary indexes a projection's writes use (kept during a build): the chat-clear update finds a channel's
 * messages after its previous clear by `(channel_id, global_position)`. Not kept in a build with a look-ahead
 * (see prepareLookahead), where clears update stored rows only after the look-ahead's position.
 */
const BUILD_TIME_INDEXES: ReadonlySet<string> = new Set(['chat_messages_channel_position_idx']);
/**
 * UNLOGGED one-row marker of a build schema: PostgreSQL empties unlogged tables in crash recovery, so an empty marker
 * means the build lost its unlogged tables (and checkpoints) while its logged ones kept their rows: it starts again.
 */
const BUILD_ALIVE = 'eventcast_build_alive';
/**
 * Tables built LOGGED from the start when the build has a look-ahead: written by appends only up to the look-ahead's
 * position, so logging each row as it is copied costs less than rewriting the whole table at the end (SET LOGGED).
 */
const BUILD_LOGGED_WITH_LOOKAHEAD: ReadonlySet<string> = new Set(['chat_messages']);
/** One-row table of a build schema holding the position its look-ahead covers (see prepareLookahead). */
const BUILD_LOOKAHEAD = 'eventcast_build_lookahead';
const LOCK_NAMESPACE = 7_341_004;
/**
 * Events per read and per build transaction of a rebuild or verify by default. On the 2-core development machine
 * (bench/results/rebuild-replay.md) 10,000 was faster than 5,000 (fewer statements per event: the analytics counters
 * fold more messages into each upsert) at about 100 MiB more peak memory; 20,000 was no faster.
 */
export const DEFAULT_REBUILD_BATCH = 10_000;
/** Pages of the log a build lane may be ahead of the slowest lane (see ParallelRunners.enqueue). */
const PAGES_AHEAD = 2;

/** Bigint compare for sorting. */
const byPosition = (a: RecordedEvent, b: RecordedEvent): number => (a.globalPosition < b.globalPosition ? -1 : a.globalPosition > b.globalPosition ? 1 : 0);

/**
 * Reads the global log after `after` in pages of `limit`, prefetching the next page while the caller works on the
 * current one (the read of page n+1 overlaps the apply of page n). Ends at the end of the log, or after `until`.
 */
export async function* readPages(store: Pick<EventStore, 'readAll'>, after: bigint, limit: number, until?: bigint): AsyncGenerator<RecordedEvent[]> {
  let next: Promise<RecordedEvent[]> | null = store.readAll({ after, limit });
  try {
    while (next) {
      const page: RecordedEvent[] = await next;
      next = null;
      if (page.length === 0) return;
      const last = page[page.length - 1]!.globalPosition;
      if (page.length === limit && (until === undefined || last < until)) next = store.readAll({ after: last, limit });
      if (until !== undefined && last > until) {
        const cut = page.filter((e) => e.globalPosition <= until);
        if (cut.length > 0) yield cut;
        return;
      }
      yield page;
    }
  } finally {
    // An abandoned prefetch must not become an unhandled rejection.
    next?.catch(() => undefined);
  }
}

/**
 * `projections` split into parts connected by tables they both write (union of overlapping `tables`), each part in
 * run order, parts in the run order of their first member. Reads do not connect parts (see buildRunner).
 */
function writerParts(projections: readonly Projection[]): Projection[][] {
  const parts: Projection[][] = [];
  for (const p of projections) {
    const joined = parts.filter((ps) => ps.some((q) => q.tables.some((t) => p.tables.includes(t))));
    const merged = [...joined.flat(), p];
    for (const j of joined) parts.splice(parts.indexOf(j), 1);
    parts.push(merged);
  }
  const order = new Map(projections.map((p, i) => [p, i]));
  for (const ps of parts) ps.sort((a, b) => order.get(a)! - order.get(b)!);
  return parts.sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
}

/**
 * The lanes of a build: the unit's independent parts, each lane with its own {@link ProjectionRunner} (own checkpoint
 * rows, own tables) and, given the database URL, its own connection. Pages of the log are queued to every lane
 * ({@link enqueue}): the lanes apply them as concurrent transactions, so PostgreSQL works on them in parallel while
 * this process prepares the next batch. Inside a caller's transaction (the switch) they run one after the other.
 */
class ParallelRunners {
  /**
   * @param connections the dedicated build connections the runners use (closed by {@link close}), if any.
   * @param waits per lane, the EARLIER lanes whose page it must see committed before applying the same page (a lane
   *   with a projection reading a table written in such a lane).
   */
  constructor(
    readonly runners: readonly ProjectionRunner[],
    private readonly connections: readonly BuildConnection[] = [],
    private readonly waits: readonly (readonly number[])[] = [],
  ) {}

  /** Closes the dedicated build connections. */
  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
  }

  /** Every projection of every part. */
  get projections(): Projection[] {
    return this.runners.flatMap((r) => r.projections);
  }

  /** Lowest checkpoint over all parts. */
  async position(): Promise<bigint> {
    const all = await Promise.all(this.runners.map((r) => r.position()));
    return all.reduce((m, p) => (p < m ? p : m));
  }

  /** Per lane: its last queued batch (see {@link enqueue}). */
  private tails: Promise<void>[] = [];
  /** Per lane: its checkpoint after its last committed batch (a lower bound before the first). */
  private committed: bigint[] = [];
  /** Queued batches, oldest first: each settles once every lane has applied it. */
  private queued: Promise<void>[] = [];

  /**
   * Queues `events` (one page of the log, pages in log order) on every lane: each lane applies its pages in order, one
   * transaction per page, without waiting for the other lanes, so one lane's JavaScript runs while PostgreSQL works on
   * another lane's statements. Lanes share no table and each has its own checkpoints, so a lane ahead of another
   * changes nothing the other reads, and a resumed build restarts from the lowest checkpoint (the lane ahead skips
   * what it has). Waits while more than `ahead` pages are unfinished (memory: at most `ahead` + 1 pages held).
   * @param from the position the build starts after (lower bound of every lane's checkpoint).
   * @returns the lowest checkpoint committed by all lanes so far.
   * @throws the first error of a lane, once every lane has stopped (see {@link drain}).
   */
  async enqueue(events: readonly RecordedEvent[], from: bigint, ahead: number): Promise<bigint> {
    if (this.tails.length === 0) {
      this.tails = this.runners.map(() => Promise.resolve());
      this.committed = this.runners.map(() => from);
    }
    const done: Promise<void>[] = [];
    this.runners.forEach((r, i) => {
      const after = (this.waits[i] ?? []).filter((j) => j < i);
      const t = this.tails[i]!.then(async () => {
        if (after.length > 0) await Promise.all(after.map((j) => done[j]!));
        this.committed[i] = (await r.apply(events)).position;
      });
      t.catch(() => undefined); // observed through `queued`; a failed lane's later pages fail with it
      this.tails[i] = t;
      done.push(t);
    });
    const all = Promise.all(done).then(() => undefined);
    all.catch(() => undefined);
    this.queued.push(all);
    while (this.queued.length > ahead) await this.settle(this.queued.shift()!);
    return this.committed.reduce((m, p) => (p < m ? p : m));
  }

  /**
   * Waits for every queued page. @param from the position the build started after (returned when nothing was ever
   * queued). @returns the lowest checkpoint. @throws the first error of a lane (after all lanes have stopped).
   */
  async drain(from: bigint): Promise<bigint> {
    while (this.queued.length > 0) await this.settle(this.queued.shift()!);
    // Nothing queued (an empty log, or nothing after the checkpoint): still where the build started.
    return this.committed.reduce((m, p) => (p < m ? p : m), this.committed[0] ?? from);
  }

  /** Waits for every lane to stop, whatever the outcome (before closing the connections or giving up). */
  async stop(): Promise<void> {
    await Promise.allSettled(this.tails);
    this.tails = [];
    this.queued = [];
  }

  private async settle(page: Promise<void>): Promise<void> {
    try {
      await page;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Applies `events` to every part inside `trx`, one after the other. */
  async applyWithin(trx: Transaction<DB>, events: readonly RecordedEvent[]): Promise<void> {
    for (const r of this.runners) await r.applyWithin(trx, events);
  }
}

/** Options of the {@link ProjectionRebuilder} constructor. */
export interface RebuilderOptions {
  /**
   * `postgres://…` of the read-model database `root` is connected to. When given, build batches run on dedicated
   * connections of the rebuilder (one per build lane, see build-connection.ts) and projections may bulk-load with
   * `COPY … FROM STDIN` in the batch transaction (chat messages do); otherwise on `root`'s pool with plain statements.
   * The rows are the same either way.
   */
  databaseUrl?: string;
}

/** Rebuilds and verifies read models of a query-api database. */
export class ProjectionRebuilder {
  private readonly live: Kysely<DB>;

  /**
   * @param root a Kysely instance on the read-model database, not bound to a schema (`createReadModelDb().root`).
   * @param store the event store (global log and head).
   * @param registered every projection of the app in run order (`createProjections()`).
   * @param options see {@link RebuilderOptions}.
   */
  constructor(
    private readonly root: Kysely<unknown>,
    private readonly store: RebuildEventSource,
    readonly registered: readonly Projection[],
    private readonly options: RebuilderOptions = {},
  ) {
    this.live = (root as unknown as Kysely<DB>).withSchema(READMODELS_SCHEMA);
  }

  /** The unit a request resolves to (see {@link rebuildUnit}). @throws {RebuildUsageError}. */
  unit(requested: readonly string[] | 'all'): RebuildUnit {
    return rebuildUnit(this.registered, requested);
  }

  /**
   * Blue/green rebuild of the unit containing `requested` (see the file comment), resuming an interrupted build of
   * the same unit unless `options.restart`.
   * @throws {RebuildUsageError} unknown names; {@link RebuildBusyError} when the same unit is being rebuilt;
   *   the signal's reason when aborted; store, database and catalog errors (recorded in `projection_status`).
   */
  async rebuild(requested: readonly string[] | 'all', options: RebuildOptions = {}): Promise<RebuildResult> {
    const unit = this.unit(requested);
    const schema = unitSchema('readmodels_build', unit);
    const t0 = performance.now();
    return this.withUnitLock(schema, async () => {
      try {
        const resumed = await this.prepareSchema(schema, unit, options.restart === true);
        const lookaheadUntil = await this.prepareLookahead(schema, unit, !resumed);
        const runner = this.buildRunner(schema, unit, options.parallel ?? this.options.databaseUrl !== undefined, lookaheadUntil);
        try {
          const before = await runner.position();
          const built = await this.build(runner, unit, options, undefined, 'start');
          await this.finishTables(schema, unit);
          // Setting LOGGED and the index builds took a while and the log moved on: catch up again before the locks.
          const more = await this.build(runner, unit, options, undefined, 'continue');
          const { position, events } = await this.switchOver(schema, unit, runner, options);
          options.onProgress?.({ phase: 'done', names: unit.names, position, head: position, startedAt: before, eventsPerSecond: 0, etaSeconds: 0 });
          return {
            names: unit.names,
            tables: unit.tables,
            position,
            resumedFrom: resumed ? before : null,
            events: built.events + more.events + events,
            seconds: (performance.now() - t0) / 1000,
          };
        } finally {
          await runner.close();
        }
      } catch (err) {
        // An operator's interrupt is no failure: the row stays `rebuilding` and shows as interrupted once stale.
        if (!options.signal?.aborted) await recordRebuildFailure(this.live, unit.names, err).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * Rebuilds the unit containing `requested` into a scratch schema and diffs it against the live read model at the
   * same checkpoint. The scratch schema is dropped afterwards. The live projector waits during the final diff.
   * @throws as {@link rebuild}; also when the live checkpoints of the unit differ (a projector mid-catch-up: retry).
   */
  async verify(requested: readonly string[] | 'all', options: Omit<RebuildOptions, 'restart'> = {}): Promise<VerifyResult> {
    const unit = this.unit(requested);
    const schema = unitSchema('readmodels_verify', unit);
    return this.withUnitLock(schema, async () => {
      try {
        await this.prepareSchema(schema, unit, true);
        const target = await this.liveCheckpoint(this.live, unit);
        const lookaheadUntil = await this.prepareLookahead(schema, unit, true, target);
        const runner = this.buildRunner(schema, unit, options.parallel ?? this.options.databaseUrl !== undefined, lookaheadUntil);
        try {
          await this.build(runner, unit, options, target, false);
          return await this.root.transaction().execute(async (trx) => {
            const liveTrx = (trx as unknown as Transaction<DB>).withSchema(READMODELS_SCHEMA);
            await sql`SELECT name FROM ${sql.table(`${READMODELS_SCHEMA}.projection_checkpoints`)} WHERE name IN (${sql.join(unit.names)}) ORDER BY name FOR SHARE`.execute(trx);
            const position = await this.liveCheckpoint(liveTrx, unit);
            const buildTrx = liveTrx.withPlugin(new SchemaRedirectPlugin(READMODELS_SCHEMA, schema));
            await this.applyRemaining(buildTrx, runner, options.batchSize ?? DEFAULT_REBUILD_BATCH, position);
            const tablesCompared = await diffTables(trx, READMODELS_SCHEMA, schema, unit.tables);
            return { names: unit.names, tables: unit.tables, position, tablesCompared, equal: tablesCompared.every((d) => d.differences === 0) };
          });
        } finally {
          await runner.close();
        }
      } finally {
        await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(this.root);
      }
    });
  }

  /** Runs `work` holding a session advisory lock named after `schema`. @throws {RebuildBusyError} when held. */
  private async withUnitLock<T>(schema: string, work: () => Promise<T>): Promise<T> {
    return this.root.connection().execute(async (conn) => {
      const r = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${LOCK_NAMESPACE}, hashtext(${schema})) AS ok`.execute(conn);
      if (!r.rows[0]?.ok) throw new RebuildBusyError(schema);
      try {
        return await work();
      } finally {
        await sql`SELECT pg_advisory_unlock(${LOCK_NAMESPACE}, hashtext(${schema}))`.execute(conn).catch(() => undefined);
      }
    });
  }

  /**
   * Creates `schema` with every read-model table (the migrations, redirected) and a marker row naming the unit and
   * the migrations, in one transaction; or keeps an existing one built for the same unit and migrations.
   * @returns true when an existing build is resumed.
   */
  private async prepareSchema(schema: string, unit: RebuildUnit, fresh: boolean): Promise<boolean> {
    const migrations = Object.keys(readModelMigrations).sort();
    if (!fresh) {
      const exists = await sql<{ ok: boolean }>`SELECT to_regclass(${`${schema}.${BUILD_INFO}`}) IS NOT NULL AS ok`.execute(this.root);
      if (exists.rows[0]?.ok) {
        const info = await sql<{ names: string[]; migrations: string[] }>`SELECT names, migrations FROM ${sql.table(`${schema}.${BUILD_INFO}`)}`.execute(this.root);
        const row = info.rows[0];
        const alive = await sql<{ ok: boolean }>`SELECT to_regclass(${`${schema}.${BUILD_ALIVE}`}) IS NOT NULL AS ok`.execute(this.root);
        const intact = alive.rows[0]?.ok === true && (await sql`SELECT 1 FROM ${sql.table(`${schema}.${BUILD_ALIVE}`)}`.execute(this.root)).rows.length > 0;
        if (intact && row && JSON.stringify(row.names) === JSON.stringify(unit.names) && JSON.stringify(row.migrations) === JSON.stringify(migrations)) return true;
      }
    }
    await this.root.transaction().execute(async (trx) => {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(trx);
      await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(trx);
      // Every schema-qualified name of every migration goes to the build schema (also tables of other schemas, e.g.
      // `integrations`, which are created there and never used); unqualified names resolve there too.
      await sql`SET LOCAL search_path TO ${sql.id(schema)}`.execute(trx);
      const redirected = trx.withPlugin(new SchemaRedirectPlugin(null, schema));
      for (const name of migrations) await readModelMigrations[name]!.up(redirected);
      // UNLOGGED while building (no WAL per row: much faster bulk writes). The tables a switch moves, and the build
      // checkpoints, become LOGGED again before the switch (finishTables). A PostgreSQL crash empties unlogged tables,
      // checkpoints included, and the marker BUILD_ALIVE: a rerun then starts the build again from scratch.
      for (const t of await this.unloggable(trx, schema, unit)) await sql`ALTER TABLE ${sql.table(`${schema}.${t}`)} SET UNLOGGED`.execute(trx);
      await sql`CREATE TABLE ${sql.table(`${schema}.${BUILD_INFO}`)} (names text[] NOT NULL, migrations text[] NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`.execute(trx);
      await sql`CREATE UNLOGGED TABLE ${sql.table(`${schema}.${BUILD_ALIVE}`)} (alive boolean NOT NULL)`.execute(trx);
      await sql`INSERT INTO ${sql.table(`${schema}.${BUILD_ALIVE}`)} (alive) VALUES (true)`.execute(trx);
      await this.deferIndexes(trx, schema, unit);
      await sql`INSERT INTO ${sql.table(`${schema}.${BUILD_INFO}`)} (names, migrations) VALUES (${unit.names}::text[], ${migrations}::text[])`.execute(trx);
    });
    return false;
  }

  /**
   * The build's look-ahead (see `BuildLookahead` in projections/projection.ts), given the database URL (look-aheads
   * go with the bulk path of the build connections) and projections of the unit that have one:
   * for a build starting from position 0 (`fresh`), reads every event of their look-ahead types up to H = `until`
   * (verify) or the head, hands them to the projections in pages of 10,000, and records H in
   * `<schema>.eventcast_build_lookahead`, all in one transaction (look-ahead tables are LOGGED: after a PostgreSQL
   * crash the build restarts from 0 with them). A resumed build keeps the H it started with; a resumed build that
   * started without a look-ahead continues without one.
   * @returns H, or undefined without a look-ahead.
   * @throws store, catalog (an event that cannot be upcast) and database errors.
   */
  private async prepareLookahead(schema: string, unit: RebuildUnit, fresh: boolean, until?: bigint): Promise<bigint | undefined> {
    if (!this.usesLookahead(unit)) return undefined;
    const projections = unit.projections.filter((p) => p.buildLookahead !== undefined);
    if (!fresh) {
      const exists = await sql<{ ok: boolean }>`SELECT to_regclass(${`${schema}.${BUILD_LOOKAHEAD}`}) IS NOT NULL AS ok`.execute(this.root);
      if (!exists.rows[0]?.ok) return undefined;
      const r = await sql<{ until: string }>`SELECT until::text AS until FROM ${sql.table(`${schema}.${BUILD_LOOKAHEAD}`)}`.execute(this.root);
      return r.rows[0] ? BigInt(r.rows[0].until) : undefined;
    }
    const h = until ?? (await this.store.headPosition());
    const types = [...new Set(projections.flatMap((p) => p.buildLookahead!.types))];
    const reader = { readAll: (o?: Parameters<RebuildEventSource['readAll']>[0]) => this.store.readAll({ ...o, eventTypes: types }) };
    await this.root.transaction().execute(async (trx) => {
      const buildTrx = (trx as unknown as Transaction<DB>).withSchema(READMODELS_SCHEMA).withPlugin(new SchemaRedirectPlugin(READMODELS_SCHEMA, schema));
      let first = true;
      const hand = async (events: readonly RecordedDomainEvent[]): Promise<void> => {
        for (const p of projections) {
          const wanted = new Set<string>(p.buildLookahead!.types);
          await p.buildLookahead!.store(buildTrx, events.filter((e) => wanted.has(e.type)), first);
        }
        first = false;
      };
      if (h > 0n) {
        for await (const page of readPages(reader, 0n, 10_000, h)) {
          await hand(page.map((e) => (isEventType(e.type) && e.version === eventVersions[e.type] ? (e as RecordedDomainEvent) : validateRecorded(e))));
        }
      }
      if (first) await hand([]);
      await sql`CREATE TABLE ${sql.table(`${schema}.${BUILD_LOOKAHEAD}`)} (until bigint NOT NULL)`.execute(trx);
      await sql`INSERT INTO ${sql.table(`${schema}.${BUILD_LOOKAHEAD}`)} (until) VALUES (${h.toString()}::bigint)`.execute(trx);
    });
    return h;
  }

  /** Whether a fresh build of `unit` gets a look-ahead: with the database URL, when a projection of it has one. */
  private usesLookahead(unit: RebuildUnit): boolean {
    return this.options.databaseUrl !== undefined && unit.projections.some((p) => p.buildLookahead !== undefined);
  }

  /**
   * Drops the secondary indexes of the unit's build tables that no projection needs while writing (non-unique, not
   * backing a constraint, not in {@link BUILD_TIME_INDEXES}) and records their definitions in
   * `<schema>.eventcast_build_indexes`: a bulk load into an index-free table, then one sorted index build
   * ({@link finishTables}) is much cheaper than maintaining the index row by row (the top-chatters index
   * changes with every upsert of a counter). The build schema is not served before the switch, so nobody misses them.
   */
  private async deferIndexes(trx: Transaction<unknown>, schema: string, unit: RebuildUnit): Promise<void> {
    await sql`CREATE TABLE ${sql.table(`${schema}.${BUILD_INDEXES}`)} (name text PRIMARY KEY, table_name text NOT NULL, definition text NOT NULL)`.execute(trx);
    // Qualified definitions: pg_get_indexdef qualifies names outside the search path.
    await sql`SET LOCAL search_path TO pg_catalog`.execute(trx);
    const rows = await sql<{ name: string; table: string; definition: string }>`SELECT ic.relname AS name, tc.relname AS table, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace n ON n.oid = tc.relnamespace
        WHERE n.nspname = ${schema} AND tc.relname = ANY(${[...unit.tables]}::text[]) AND NOT i.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY ic.relname`.execute(trx);
    for (const r of rows.rows) {
      if (BUILD_TIME_INDEXES.has(r.name) && !this.usesLookahead(unit)) continue;
      await sql`INSERT INTO ${sql.table(`${schema}.${BUILD_INDEXES}`)} (name, table_name, definition) VALUES (${r.name}, ${r.table}, ${r.definition})`.execute(trx);
      await sql`DROP INDEX ${sql.table(`${schema}.${r.name}`)}`.execute(trx);
    }
  }

  /**
   * Makes the build tables crash-safe and ready to serve, once the bulk of the log is applied: per table, SET LOGGED
   * (for the tables {@link unloggable} made UNLOGGED; it rewrites the table and its remaining indexes), then the indexes
   * {@link deferIndexes} dropped (one sorted build each, with more sort memory than the default), then ANALYZE (planner
   * statistics for the switched-in table). Two tables at a time, largest first, each on a connection of the root pool:
   * one big table's work overlaps all the small ones'. Idempotent (a created index leaves the list); a PostgreSQL crash
   * meanwhile empties the unlogged marker and the build starts again ({@link BUILD_ALIVE}).
   */
  private async finishTables(schema: string, unit: RebuildUnit): Promise<void> {
    const unloggable = new Set(await this.unloggable(this.root, schema, unit));
    const listed = await sql<{ ok: boolean }>`SELECT to_regclass(${`${schema}.${BUILD_INDEXES}`}) IS NOT NULL AS ok`.execute(this.root);
    const deferred = listed.rows[0]?.ok
      ? (await sql<{ name: string; table: string; definition: string }>`SELECT name, table_name AS table, definition FROM ${sql.table(`${schema}.${BUILD_INDEXES}`)} ORDER BY name`.execute(this.root)).rows
      : [];
    const sizes = await sql<{ t: string; bytes: string }>`SELECT c.relname AS t, pg_total_relation_size(c.oid)::text AS bytes FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${schema} AND c.relkind = 'r'`.execute(this.root);
    const size = new Map(sizes.rows.map((r) => [r.t, Number(r.bytes)]));
    const queue = [...new Set([...unit.tables, 'projection_checkpoints'])].sort((a, b) => (size.get(b) ?? 0) - (size.get(a) ?? 0));
    const finish = async (t: string): Promise<void> => {
      if (unloggable.has(t)) await sql`ALTER TABLE ${sql.table(`${schema}.${t}`)} SET LOGGED`.execute(this.root);
      const indexes = deferred.filter((d) => d.table === t);
      if (indexes.length > 0) {
        await this.root.transaction().execute(async (trx) => {
          await sql`SET LOCAL maintenance_work_mem = '256MB'`.execute(trx);
          for (const d of indexes) {
            await sql.raw(d.definition).execute(trx);
            await sql`DELETE FROM ${sql.table(`${schema}.${BUILD_INDEXES}`)} WHERE name = ${d.name}`.execute(trx);
          }
        });
      }
      if (unit.tables.includes(t)) await sql`ANALYZE ${sql.table(`${schema}.${t}`)}`.execute(this.root);
    };
    const worker = async (): Promise<void> => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await finish(t);
    };
    await Promise.all([worker(), worker()]);
  }


  /**
   * The unit's tables and the build checkpoints, minus tables in a foreign-key relation (PostgreSQL refuses to
   * change their persistence alone) and, with a look-ahead, {@link BUILD_LOGGED_WITH_LOOKAHEAD}; those stay LOGGED.
   */
  private async unloggable(db: Kysely<unknown>, schema: string, unit: RebuildUnit): Promise<string[]> {
    const fk = await sql<{ t: string }>`SELECT c.relname AS t FROM pg_constraint k JOIN pg_class c ON c.oid IN (k.conrelid, k.confrelid)
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND n.nspname = ${schema}`.execute(db);
    const related = new Set(fk.rows.map((r) => r.t));
    const logged = this.usesLookahead(unit) ? BUILD_LOGGED_WITH_LOOKAHEAD : new Set<string>();
    return [...unit.tables, 'projection_checkpoints'].filter((t) => !related.has(t) && !logged.has(t));
  }



  /**
   * Runners of the unit's projections writing into `schema` (their own checkpoints there), without status writes:
   * one for the whole unit, or with `parallel` two lanes holding the unit's independent parts (projections that
   * share no table), applied concurrently. The build checkpoints are per projection either way, so a resumed build may
   * switch between the two.
   */
  private buildRunner(schema: string, unit: RebuildUnit, parallel: boolean, lookaheadUntil?: bigint): ParallelRunners {
    // Build runners: no status writes, projections of a batch run concurrently (their statements pipelined on the
    // connection), events at the current schema version are not validated again (the store validated them on append).
    // With a database URL each lane has its own connection and projections may COPY into the build tables.
    const options = { recordStatus: false, concurrent: true, trustCurrentVersion: true };
    const connections: BuildConnection[] = [];
    const lane = (projections: readonly Projection[]): ProjectionRunner => {
      const url = this.options.databaseUrl;
      if (url === undefined) return new ProjectionRunner(this.live.withPlugin(new SchemaRedirectPlugin(READMODELS_SCHEMA, schema)), projections, options);
      const conn = new BuildConnection(url);
      connections.push(conn);
      return new ProjectionRunner(conn.db(schema), projections, { ...options, bulk: conn.copier(schema, lookaheadUntil) });
    };
    if (!parallel) return new ParallelRunners([lane(unit.projections)], connections);
    // Parts: projections connected by a table they both write (they must share each batch transaction). A part that
    // reads a table of another part (the moderation log reads chat_messages) goes to the same lane or a later one;
    // in a later lane it applies a page once the writer's lane committed that page (ParallelRunners), so it sees at
    // least the rows up to its events, and maybe rows of later pages: such a reader only reads rows at positions
    // before the event it applies (the moderation log does).
    const parts = writerParts(unit.projections);
    const written = parts.map((ps) => new Set(ps.flatMap((p) => p.tables)));
    const needs = parts.map((ps, i) => {
      const reads = ps.flatMap((p) => p.reads ?? []);
      return parts.map((_, j) => j).filter((j) => j !== i && reads.some((t) => written[j]!.has(t)));
    });
    // Two lanes (more concurrent transactions only added round trips on a 2-core machine), run order kept inside a
    // lane. The parts are dealt out by weight, heaviest first, each to the lighter lane (a reader: see above): a
    // projection handling chat messages (nine events in ten of a busy log) weighs 100, any other 1, so the chat
    // writers and the analytics counters end up in different lanes.
    const weight = (projections: readonly Projection[]): number => projections.reduce((w, p) => w + (p.handles.includes('ChatMessageSent') ? 100 : 1), 0);
    const lanes: Projection[][] = [[], []];
    const load = [0, 0];
    const laneOf = new Map<number, number>();
    const pending = parts.map((_, i) => i).sort((a, b) => weight(parts[b]!) - weight(parts[a]!));
    while (pending.length > 0) {
      // The heaviest part whose writers are placed (a cycle of reads would leave none: then the heaviest).
      const k = Math.max(0, pending.findIndex((i) => needs[i]!.every((j) => laneOf.has(j))));
      const i = pending.splice(k, 1)[0]!;
      // A reader goes to the lane after its writers' (it then works on page k while they work on page k + 1).
      const lane = needs[i]!.length > 0 ? Math.min(1, Math.max(...needs[i]!.map((j) => laneOf.get(j) ?? 0)) + 1) : load[0]! <= load[1]! ? 0 : 1;
      laneOf.set(i, lane);
      lanes[lane]!.push(...parts[i]!);
      load[lane]! += weight(parts[i]!);
    }
    const order = new Map(unit.projections.map((p, i) => [p, i]));
    const used = lanes.filter((l) => l.length > 0);
    // A lane waits for the earlier lane when one of its parts reads a table of a part there.
    const waits = used.map((l, n) => (n > 0 && l.some((p) => needs[parts.findIndex((ps) => ps.includes(p))]!.some((j) => laneOf.get(j) === 0)) ? [0] : []));
    return new ParallelRunners(
      used.map((l) => lane(l.sort((a, b) => order.get(a)! - order.get(b)!))),
      connections,
      waits,
    );
  }

  /** The unit's live checkpoint; all of the unit's checkpoints must agree. @throws {Error} when they differ. */
  private async liveCheckpoint(db: Kysely<DB>, unit: RebuildUnit): Promise<bigint> {
    const rows = await db.selectFrom('projection_checkpoints').select(['name', 'position']).where('name', 'in', unit.names).execute();
    const positions = new Map(rows.map((r) => [r.name, BigInt(r.position)]));
    const values = unit.names.map((n) => positions.get(n) ?? 0n);
    if (new Set(values).size > 1) {
      throw new Error(`live checkpoints of ${unit.names.join(', ')} differ (${unit.names.map((n, i) => `${n}=${values[i]}`).join(', ')}): a projector is catching up; retry`);
    }
    return values[0] ?? 0n;
  }

  /**
   * Applies the log to the build runner in batches (one transaction each) until the end of the log, or `until`.
   * Reports progress about once a second (and to `projection_status` when `report`; `start` also resets the start
   * time there).
   */
  private async build(
    runner: ParallelRunners,
    unit: RebuildUnit,
    options: RebuildOptions,
    until: bigint | undefined,
    report: 'start' | 'continue' | false,
  ): Promise<{ events: number }> {
    const batchSize = options.batchSize ?? DEFAULT_REBUILD_BATCH;
    const start = await runner.position();
    let position = start;
    let head = until ?? (await this.store.headPosition());
    const t0 = performance.now();
    let lastReport = 0;
    let events = 0;
    const progress = async (phase: RebuildProgress['phase'], force: boolean): Promise<void> => {
      const now = performance.now();
      if (!force && now - lastReport < 1000) return;
      lastReport = now;
      if (until === undefined) head = await this.store.headPosition();
      const seconds = (now - t0) / 1000;
      const eventsPerSecond = seconds > 0 ? Number(position - start) / seconds : 0;
      const etaSeconds = eventsPerSecond > 0 ? Number(head - position) / eventsPerSecond : null;
      options.onProgress?.({ phase, names: unit.names, position, head, startedAt: start, eventsPerSecond, etaSeconds });
      if (report) await recordRebuildProgress(this.live, unit.names, { position, head, eventsPerSecond, starting: report === 'start' && phase === 'build' && events === 0 });
    };
    await progress('build', true);
    try {
      for await (const page of readPages(this.store, position, batchSize, until)) {
        options.signal?.throwIfAborted();
        position = await runner.enqueue(page, start, PAGES_AHEAD);
        events += page.length;
        await progress('build', false);
      }
      position = await runner.drain(start);
    } finally {
      // On an abort or a failure, let the batches in flight finish (or fail) before the connections close.
      await runner.stop();
    }
    await progress('switch', true);
    return { events };
  }

  /** Applies every event after the build checkpoint (up to `until` when given) inside `trx` (bound to the build schema). */
  private async applyRemaining(buildTrx: Transaction<DB>, runner: ParallelRunners, batchSize: number, until?: bigint): Promise<{ position: bigint; events: number }> {
    const rows = await buildTrx.selectFrom('projection_checkpoints').select(['name', 'position']).where('name', 'in', runner.projections.map((p) => p.name)).execute();
    let position = rows.length === runner.projections.length ? rows.reduce((m, r) => (BigInt(r.position) < m ? BigInt(r.position) : m), BigInt(rows[0]!.position)) : 0n;
    let events = 0;
    for (;;) {
      if (until !== undefined && position >= until) break;
      const page = (await this.store.readAll({ after: position, limit: batchSize })).filter((e) => until === undefined || e.globalPosition <= until);
      if (page.length === 0) break;
      page.sort(byPosition);
      await runner.applyWithin(buildTrx, page);
      position = page[page.length - 1]!.globalPosition;
      events += page.length;
    }
    return { position, events };
  }

  /** The switch transaction (see the file comment), retried up to 3 times when a lock wait times out. */
  private async switchOver(schema: string, unit: RebuildUnit, runner: ParallelRunners, options: RebuildOptions): Promise<{ position: bigint; events: number }> {
    const old = `${schema.replace(/^readmodels_build/, 'readmodels_old')}`.slice(0, 63);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.root.transaction().execute(async (trx) => {
          await sql`SET LOCAL lock_timeout = ${sql.lit(`${options.switchLockTimeoutMs ?? 10_000}ms`)}`.execute(trx);
          const liveTrx = (trx as unknown as Transaction<DB>).withSchema(READMODELS_SCHEMA);
          await liveTrx
            .insertInto('projection_checkpoints')
            .values(unit.names.map((name) => ({ name, position: 0n })))
            .onConflict((oc) => oc.column('name').doNothing())
            .execute();
          await liveTrx.selectFrom('projection_checkpoints').select('name').where('name', 'in', unit.names).orderBy('name').forUpdate().execute();
          const buildTrx = liveTrx.withPlugin(new SchemaRedirectPlugin(READMODELS_SCHEMA, schema));
          const { events } = await this.applyRemaining(buildTrx, runner, options.batchSize ?? DEFAULT_REBUILD_BATCH);
          await sql`DROP SCHEMA IF EXISTS ${sql.id(old)} CASCADE`.execute(trx);
          await sql`CREATE SCHEMA ${sql.id(old)}`.execute(trx);
          for (const t of unit.tables) {
            await sql`ALTER TABLE IF EXISTS ${sql.table(`${READMODELS_SCHEMA}.${t}`)} SET SCHEMA ${sql.id(old)}`.execute(trx);
            await sql`ALTER TABLE ${sql.table(`${schema}.${t}`)} SET SCHEMA ${sql.id(READMODELS_SCHEMA)}`.execute(trx);
          }
          await sql`UPDATE ${sql.table(`${READMODELS_SCHEMA}.projection_checkpoints`)} AS c SET position = b.position, updated_at = now()
            FROM ${sql.table(`${schema}.projection_checkpoints`)} AS b WHERE c.name = b.name AND c.name IN (${sql.join(unit.names)})`.execute(trx);
          const after = await this.liveCheckpoint(liveTrx, unit);
          await sql`DROP SCHEMA ${sql.id(old)} CASCADE`.execute(trx);
          await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(trx);
          await clearRebuildStatus(liveTrx, unit.names);
          return { position: after, events };
        });
      } catch (err) {
        // 55P03 lock_not_available: a long reader held a table; the build stays, try the switch again.
        if ((err as { code?: string }).code !== '55P03' || attempt >= 3) throw err;
      }
    }
  }
}

export { RebuildUsageError };
