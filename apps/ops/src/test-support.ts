/**
 * Test helpers of the operator CLI: a fresh database with the PostgreSQL store, an in-process CLI run with captured
 * output, and a "live slice" of the platform — a private nats-server, the JetStream publisher following the store
 * and a real query-api (catch-up + JetStream projector + HTTP) — so rebuilds can be tested under live traffic.
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { EVENTS_JETSTREAM, EVENTS_SUBJECT_PREFIX } from '@eventcast/events';
import { EventPublisher, PostgresEventStore } from '@eventcast/event-store';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { createLogger, createTestDatabase, waitFor as platformWaitFor, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi, type RunningQueryApi } from '@eventcast/query-api';
import { createCli } from './cli.js';

/** A fresh database with a migrated PostgreSQL event store. */
export interface StoreDb {
  db: TestDatabase;
  store: PostgresEventStore;
  close(): Promise<void>;
}

/** Creates a throw-away database (`ops_test_*`) and a migrated store on it. */
export async function createStoreDb(): Promise<StoreDb> {
  const db = await createTestDatabase('ops_test');
  const store = new PostgresEventStore({ connectionString: db.url, subscription: { pollIntervalMs: 200 } });
  await store.migrate();
  return {
    db,
    store,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

/** Output of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with `args` against `databaseUrl` (plus `env`), capturing stdout and stderr.
 * @param signal aborts the command like SIGINT would.
 */
export async function runCli(databaseUrl: string, args: readonly string[], env: Record<string, string> = {}, signal?: AbortSignal): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const cli = createCli({ stdout, stderr, env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, ...env }, signal: signal ?? new AbortController().signal });
  const code = await cli.run(args);
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Path of the compiled CLI entry point (`dist/main.js`). */
export const CLI_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** A CLI child process: `kill` it, or await `done` for its exit code and output. */
export interface CliChild {
  pid: number;
  /** Everything written so far. */
  output(): { stdout: string; stderr: string };
  done: Promise<CliRun>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `node dist/main.js …args` as a child process with `DATABASE_URL`. */
export function spawnCli(databaseUrl: string, args: readonly string[], env: Record<string, string> = {}): CliChild {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr }));
  });
  return { pid: child.pid ?? 0, output: () => ({ stdout, stderr }), done, kill: (s) => child.kill(s) };
}

/** The platform's read side on a private NATS: publisher (store → JetStream) and query-api. */
export interface LiveSlice {
  nats: PrivateNatsServer;
  publisher: EventPublisher;
  api: RunningQueryApi;
  base: string;
  close(): Promise<void>;
}

/**
 * Starts a private nats-server, an {@link EventPublisher} following `store`, and query-api projecting from it
 * (catch-up from `store` at start, then the JetStream consumer). Never touches the shared NATS.
 */
export async function startLiveSlice(databaseUrl: string, store: PostgresEventStore): Promise<LiveSlice> {
  process.env['LOG_LEVEL'] ??= 'warn';
  const nats = await startPrivateNats();
  await nats.start();
  const publisher = new EventPublisher({ store, databaseUrl, natsServers: nats.url, checkpointEveryMs: 100 });
  await publisher.start();
  let api: RunningQueryApi;
  try {
    api = await bootstrapQueryApi(
      {
        port: 0,
        host: '127.0.0.1',
        databaseUrl,
        natsUrl: nats.url,
        hlsPublicUrl: '',
        eventStore: store,
        shutdownHooks: false,
        webhooks: false,
        jetstream: {
          stream: EVENTS_JETSTREAM,
          subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
          consumer: 'ops-test-projections',
          maxAckPending: 1024,
          batchSize: 256,
          ackWaitMs: 5_000,
          retryDelayMs: 200,
        },
      },
      createLogger('ops-test-query-api'),
    );
  } catch (err) {
    await publisher.stop();
    await nats.dispose();
    throw err;
  }
  return {
    nats,
    publisher,
    api,
    base: `http://127.0.0.1:${api.port}`,
    async close() {
      await api.close();
      await publisher.stop();
      await nats.dispose();
    },
  };
}

/** `waitFor` of @eventcast/platform with a default of 20 s (these tests start whole services). */
export function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  return platformWaitFor(check, timeoutMs, what);
}
