/**
 * The `eventcast-ops` command line (commander): `replay`, `projections list|status|rebuild|verify`.
 * Configuration comes from the environment through @eventcast/platform `loadConfig` (DATABASE_URL, EVENT_STORE,
 * EVENTSTORE_URL, EVENTCAST_ADMINS; EVENT_STORE_DATABASE_URL when the store lives in another database, as for
 * query-api). Exit codes: 0 success, 1 failure (or differences found by verify), 2 usage error.
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Kysely } from 'kysely';
import { isAdmin, loadConfig, type Config } from '@eventcast/platform';
import { createEventStore, type EventStore } from '@eventcast/event-store';
import type { Projection, ProjectionStatusReport, ReadModelDb, RebuildProgress, VerifyResult } from '@eventcast/read-models';
import { ProgressReporter } from './progress.js';

/** The read-model lib (every projection, Kysely, the rebuild engine) is loaded only by the `projections` commands, so `replay` starts fast. */
const readModels = () => import('@eventcast/read-models');
import { replay, ReplayUsageError } from './replay.js';

type ReadModelDbTables = ReadModelDb extends Kysely<infer D> ? D : never;

/** A usage error: printed without a stack, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where the CLI writes and what it reads from the environment (tests pass their own). */
export interface CliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM by main.ts. */
  signal: AbortSignal;
}

interface Resources {
  config: Config;
  store(): Promise<EventStore>;
  readModels(): Promise<Kysely<unknown>>;
  close(): Promise<void>;
}

function openResources(env: NodeJS.ProcessEnv): Resources {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let store: Promise<EventStore> | undefined;
  let root: Kysely<unknown> | undefined;
  let migrated: Promise<Kysely<unknown>> | undefined;
  return {
    config,
    store: () =>
      (store ??= createEventStore({ ...config, DATABASE_URL: env['EVENT_STORE_DATABASE_URL'] || config.DATABASE_URL })),
    readModels: () =>
      (migrated ??= (async () => {
        const { createReadModelDb, migrateReadModels } = await readModels();
        const opened = createReadModelDb(config.DATABASE_URL, 10).root;
        root = opened;
        await migrateReadModels(opened);
        return opened;
      })()),
    async close() {
      await (await store?.catch(() => undefined))?.close();
      await root?.destroy();
    },
  };
}

const positionArg = (v: string): bigint => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a non-negative integer (a global position)');
  return BigInt(v);
};
const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const isoTime = (v: string): Date => {
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) throw new InvalidArgumentError('must be an ISO-8601 time, e.g. 2026-11-22T18:00:00Z');
  return d;
};
const collect = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function writeJson(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}

function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** The status table as text. */
export function renderStatus(rows: readonly ProjectionStatusReport[]): string {
  const header = ['PROJECTION', 'STATE', 'CHECKPOINT', 'HEAD', 'LAG', 'LAG TIME', 'DETAIL'];
  const lines = rows.map((r) => {
    let detail = '';
    if (r.state === 'failed') detail = r.error ?? '';
    if (r.rebuild) {
      const rb = r.rebuild;
      const pct = rb.percent === null ? '' : ` ${rb.percent.toFixed(1)}%`;
      const part =
        rb.state === 'failed'
          ? `rebuild failed: ${rb.error ?? ''}`
          : rb.state === 'interrupted'
            ? `rebuild interrupted at ${rb.position ?? '?'}/${rb.head ?? '?'} (rerun to resume)`
            : `rebuild${pct} (${rb.position ?? '?'}/${rb.head ?? '?'}, ${rb.eventsPerSecond ?? 0} ev/s)`;
      detail = detail ? `${detail}; ${part}` : part;
    }
    return [r.name, r.state, r.checkpoint ?? '-', r.head, r.lagEvents, formatSeconds(r.lagSeconds), detail];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  return [header, ...lines].map((l) => l.map((c, i) => (i === l.length - 1 ? String(c) : String(c).padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** The verify report as text. */
export function renderVerify(r: VerifyResult): string {
  const out: string[] = [`verify ${r.names.join(', ')} at position ${r.position}: ${r.equal ? 'EQUAL' : 'DIFFERENT'}`];
  for (const t of r.tablesCompared) {
    out.push(`  ${t.table}: live ${t.liveRows} rows, rebuilt ${t.rebuiltRows} rows, ${t.differences} difference(s)`);
    if (t.columnMismatch) out.push(`    columns differ: live [${t.columnMismatch.live.join(', ')}] rebuilt [${t.columnMismatch.rebuilt.join(', ')}]`);
    for (const d of t.sample) {
      out.push(`    key ${JSON.stringify(d.key)}`);
      out.push(`      live:    ${d.live === null ? '(missing)' : JSON.stringify(d.live)}`);
      out.push(`      rebuilt: ${d.rebuilt === null ? '(missing)' : JSON.stringify(d.rebuilt)}`);
    }
    if (t.differences > t.sample.length) out.push(`    … ${t.differences - t.sample.length} more`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Builds the program. `run(argv)` resolves with the exit code; errors are printed to `io.stderr`.
 * @param io streams, environment and the abort signal (see {@link CliIo}).
 */
export function createCli(io: CliIo): { program: Command; run(argv: readonly string[]): Promise<number> } {
  let exitCode = 0;
  let resources: Resources | undefined;
  const res = (): Resources => (resources ??= openResources(io.env));
  const showProgress = (forced: boolean | undefined): boolean => forced === true || io.stderr.isTTY === true;

  const program = new Command('eventcast-ops')
    .description('Eventcast operator CLI: replay the event log; projections status, blue/green rebuild and verify.')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  program
    .command('replay')
    .description('Write the global event log as JSON Lines or CSV, upcast to current versions, redacted unless an admin asks.')
    .addOption(new Option('--from-position <n>', 'first global position to output (inclusive)').argParser(positionArg))
    .addOption(new Option('--to-position <n>', 'last global position to output (inclusive)').argParser(positionArg))
    .addOption(new Option('--since <time>', 'only events that occurred at or after this ISO-8601 time').argParser(isoTime))
    .option('--type <type>', 'only this event type (repeatable, or comma-separated)', collect)
    .option('--category <category>', 'only streams of this category, e.g. chat, account (repeatable)', collect)
    .option('--stream <prefix>', 'only streams whose name starts with this prefix, e.g. chat-3f2a…')
    .option('--channel <channel>', "only this channel's events: a username or a channel id")
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--follow', 'after the end of the log keep streaming live events until SIGINT')
    .option('--unredacted', 'keep personal data and secrets (needs --as <admin>)')
    .option('--as <username>', 'the administrator (listed in EVENTCAST_ADMINS) asking for --unredacted')
    .option('--validate-all', 'run every event through the catalog validation, not only older versions')
    .addOption(new Option('--batch-size <n>', 'events per read').argParser(positiveInt).default(10_000))
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .action(async (o: {
      fromPosition?: bigint;
      toPosition?: bigint;
      since?: Date;
      type?: string[];
      category?: string[];
      stream?: string;
      channel?: string;
      format: 'jsonl' | 'csv';
      out?: string;
      follow?: boolean;
      unredacted?: boolean;
      as?: string;
      validateAll?: boolean;
      batchSize: number;
      progress?: boolean;
    }) => {
      const r = res();
      if (o.unredacted) {
        if (!o.as) throw new UsageError('--unredacted needs --as <username> of an administrator listed in EVENTCAST_ADMINS');
        if (!isAdmin(r.config, o.as)) throw new UsageError(`--unredacted refused: "${o.as}" is not listed in EVENTCAST_ADMINS`);
        io.stderr.write(`replay: unredacted output requested by administrator ${o.as.toLowerCase()}\n`);
      } else if (o.as) {
        throw new UsageError('--as is only meaningful with --unredacted');
      }
      const store = await r.store();
      const out = o.out ? createWriteStream(o.out) : io.stdout;
      const head = await store.headPosition();
      const progress = showProgress(o.progress) ? new ProgressReporter(io.stderr, 'replay') : undefined;
      progress?.start(Number(head), Number((o.fromPosition ?? 1n) - 1n));
      const t0 = performance.now();
      try {
        const result = await replay(store, {
          ...(o.fromPosition !== undefined ? { fromPosition: o.fromPosition } : {}),
          ...(o.toPosition !== undefined ? { toPosition: o.toPosition } : {}),
          ...(o.since ? { since: o.since } : {}),
          ...(o.type ? { types: o.type } : {}),
          ...(o.category ? { categories: o.category } : {}),
          ...(o.stream !== undefined ? { streamPrefix: o.stream } : {}),
          ...(o.channel !== undefined ? { channel: o.channel } : {}),
          format: o.format,
          out,
          follow: o.follow === true,
          unredacted: o.unredacted === true,
          validateAll: o.validateAll === true,
          batchSize: o.batchSize,
          signal: io.signal,
          onProgress: (p) => progress?.update(Number(p), Number(head)),
        });
        progress?.stop();
        const seconds = (performance.now() - t0) / 1000;
        if (o.out) io.stderr.write(`replay: ${result.written} events written to ${o.out} (${result.read} read, last position ${result.lastPosition}) in ${seconds.toFixed(2)} s\n`);
      } finally {
        progress?.stop();
        if (o.out) {
          out.end();
          await finished(out);
        }
      }
    });

  const projections = program.command('projections').description('Read-model projections: list, status, blue/green rebuild, verify.');

  projections
    .command('list')
    .description('List the registered projections with their tables and rebuild units.')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const { createProjections, rebuildUnit } = await readModels();
      const registered: readonly Projection[] = createProjections();
      const rows = registered.map((p) => ({ name: p.name, tables: p.tables, reads: p.reads ?? [], rebuiltWith: rebuildUnit(registered, [p.name]).names }));
      if (o.json) writeJson(io.stdout, rows);
      else for (const r of rows) io.stdout.write(`${r.name}: tables ${r.tables.join(', ')}${r.reads.length ? `; reads ${r.reads.join(', ')}` : ''}; rebuilt with ${r.rebuiltWith.join(', ')}\n`);
      await Promise.resolve();
    });

  projections
    .command('status')
    .description("Each projection's checkpoint, the store's head, lag in events and seconds, state (running, rebuilding, failed).")
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const r = res();
      const [root, store] = await Promise.all([r.readModels(), r.store()]);
      const { projectionStatus, createProjections, READMODELS_SCHEMA } = await readModels();
      const rows = await projectionStatus((root as unknown as Kysely<ReadModelDbTables>).withSchema(READMODELS_SCHEMA), store, createProjections());
      if (o.json) writeJson(io.stdout, rows);
      else io.stdout.write(renderStatus(rows));
      if (rows.some((x) => x.state === 'failed')) exitCode = 1;
    });

  const progressPrinter = (forced: boolean | undefined, label: string) => {
    const bar = showProgress(forced) ? new ProgressReporter(io.stderr, label) : undefined;
    let phase = '';
    return {
      onProgress(p: RebuildProgress) {
        if (p.phase !== phase) {
          phase = p.phase;
          if (p.phase === 'build') bar?.start(Number(p.head), Number(p.position));
          if (p.phase !== 'build') bar?.stop();
        }
        bar?.update(Number(p.position), Number(p.head), p.eventsPerSecond, p.etaSeconds);
      },
      stop: () => bar?.stop(),
    };
  };

  projections
    .command('rebuild')
    .description('Blue/green rebuild: build beside the live read model from position 0, catch up, switch atomically, drop the old. Resumable.')
    .argument('[names...]', 'projections to rebuild (with the projections that share their tables)')
    .option('--all', 'rebuild every projection')
    .option('--restart', 'discard an interrupted build instead of resuming it')
    .option('--parallel', "apply the unit's independent projections in two lanes on their own connections (the default)")
    .addOption(new Option('--batch-size <n>', 'events per read and per build transaction (default: 10000)').argParser(positiveInt))
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .option('--json', 'print the result as JSON')
    .action(async (names: string[], o: { all?: boolean; restart?: boolean; parallel?: boolean; batchSize?: number; progress?: boolean; json?: boolean }) => {
      if (o.all && names.length > 0) throw new UsageError('give projection names or --all, not both');
      if (!o.all && names.length === 0) throw new UsageError('name the projections to rebuild, or --all (see `projections list`)');
      const r = res();
      const [root, store] = await Promise.all([r.readModels(), r.store()]);
      const { ProjectionRebuilder, createProjections } = await readModels();
      const rebuilder = new ProjectionRebuilder(root, store, createProjections(), { databaseUrl: r.config.DATABASE_URL });
      const unit = rebuilder.unit(o.all ? 'all' : names);
      io.stderr.write(`rebuild: ${unit.names.join(', ')} (tables ${unit.tables.join(', ')})\n`);
      const printer = progressPrinter(o.progress, 'rebuild');
      try {
        const result = await rebuilder.rebuild(o.all ? 'all' : names, {
          ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
          restart: o.restart === true,
          ...(o.parallel === true ? { parallel: true } : {}),
          signal: io.signal,
          onProgress: (p) => printer.onProgress(p),
        });
        printer.stop();
        const rate = result.seconds > 0 ? Math.round(result.events / result.seconds) : 0;
        if (o.json) writeJson(io.stdout, { ...result, eventsPerSecond: rate });
        else {
          io.stdout.write(
            `rebuilt ${result.names.join(', ')}: ${result.events} events in ${result.seconds.toFixed(1)} s (${rate} ev/s)` +
              `${result.resumedFrom !== null ? `, resumed from ${result.resumedFrom}` : ''}; switched at position ${result.position}\n`,
          );
        }
      } finally {
        printer.stop();
      }
    });

  projections
    .command('verify')
    .description('Rebuild into a scratch schema and diff it row by row against the live read model; exit 1 on any difference.')
    .argument('[names...]', 'projections to verify (with the projections that share their tables)')
    .option('--all', 'verify every projection')
    .addOption(new Option('--batch-size <n>', 'events per read and per build transaction (default: 10000)').argParser(positiveInt))
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .option('--json', 'print the comparison as JSON')
    .action(async (names: string[], o: { all?: boolean; batchSize?: number; progress?: boolean; json?: boolean }) => {
      if (o.all && names.length > 0) throw new UsageError('give projection names or --all, not both');
      if (!o.all && names.length === 0) throw new UsageError('name the projections to verify, or --all (see `projections list`)');
      const r = res();
      const [root, store] = await Promise.all([r.readModels(), r.store()]);
      const { ProjectionRebuilder, createProjections } = await readModels();
      const rebuilder = new ProjectionRebuilder(root, store, createProjections(), { databaseUrl: r.config.DATABASE_URL });
      const printer = progressPrinter(o.progress, 'verify');
      try {
        const result = await rebuilder.verify(o.all ? 'all' : names, { ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }), signal: io.signal, onProgress: (p) => printer.onProgress(p) });
        printer.stop();
        if (o.json) writeJson(io.stdout, result);
        else io.stdout.write(renderVerify(result));
        if (!result.equal) exitCode = 1;
      } finally {
        printer.stop();
      }
    });

  return {
    program,
    async run(argv) {
      exitCode = 0;
      try {
        await program.parseAsync([...argv], { from: 'user' });
      } catch (err) {
        const e = err as Error & { code?: string; exitCode?: number };
        if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') exitCode = 0;
        else if (typeof e.code === 'string' && e.code.startsWith('commander.')) exitCode = 2;
        else if (err instanceof UsageError || err instanceof ReplayUsageError || e.name === 'RebuildUsageError') {
          io.stderr.write(`error: ${e.message}\n`);
          exitCode = 2;
        } else if (e.name === 'RebuildBusyError') {
          io.stderr.write(`error: ${e.message}\n`);
          exitCode = 1;
        } else if (io.signal.aborted) {
          io.stderr.write('interrupted; a rebuild resumes where it stopped when rerun\n');
          exitCode = 130;
        } else {
          io.stderr.write(`error: ${e.message ?? String(err)}\n`);
          exitCode = 1;
        }
      } finally {
        await resources?.close().catch(() => undefined);
        resources = undefined;
      }
      return exitCode;
    },
  };
}
