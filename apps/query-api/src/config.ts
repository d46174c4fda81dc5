/**
 * query-api configuration: the shared variables of docs/contracts.md (via `loadConfig`) plus this app's own.
 */
import { EVENTS_JETSTREAM, EVENTS_SUBJECT_PREFIX } from '@eventcast/events';
import { DEFAULT_MAX_POSITION_WAIT_MS } from '@eventcast/contracts';
import { loadConfig } from '@eventcast/platform';
import type { EventLogReader } from '@eventcast/read-models';
import { DEFAULT_PROJECTOR_BATCH_SIZE, type JetStreamProjectorOptions } from './messaging/jetstream-projector.js';
import { webhookOptionsFromEnv, type WebhookOptions } from './webhooks/index.js';
import { DEFAULT_LAG_THRESHOLDS, type LagThresholds } from './observability/projection-lag.js';

/** Everything {@link bootstrapQueryApi} needs. */
export interface QueryApiConfig {
  /** HTTP port; 0 picks a free one (see the returned `port`). */
  port: number;
  /** Listen address, e.g. `0.0.0.0`. */
  host: string;
  /** Read models (schema `readmodels`) and, by default, the PostgreSQL event store. */
  databaseUrl: string;
  /** Event-store database when it differs from `databaseUrl`. */
  eventStoreUrl?: string;
  /** Event-store adapter (`EVENT_STORE`, default postgres) and EventStoreDB URL (`EVENTSTORE_URL`). */
  eventStoreKind?: 'postgres' | 'eventstoredb';
  eventStoreDbUrl?: string;
  natsUrl: string;
  /** NATS user and password of query-api (`NATS_USER`/`NATS_PASSWORD`); absent: anonymous (private test servers). */
  natsUser?: string;
  natsPassword?: string;
  /** HS256 secret of the JWTs command-api issues (`JWT_SECRET`); default: the shared development secret. */
  jwtSecret?: string;
  /** Base of playback URLs; empty → `http://<request host>:8000`. */
  hlsPublicUrl: string;
  /** JetStream stream, subjects, durable consumer, batch and retry tuning. */
  jetstream: JetStreamProjectorOptions;
  /** Events per catch-up transaction (default 500). */
  catchUpBatchSize?: number;
  /**
   * Interval (ms) of a follower's tries for the projector lock and of the leader's check of its lock connection
   * (`QUERY_API_LEADER_RETRY_MS`, default 1000): a killed leader is replaced within about this long.
   */
  leaderRetryMs?: number;
  /** Use this global-log reader instead of constructing a PostgresEventStore (tests); not closed by the app. */
  eventStore?: EventLogReader;
  /** Install SIGTERM/SIGINT handlers that close the app gracefully (default true; tests pass false). */
  shutdownHooks?: boolean;
  /**
   * Outgoing webhooks (docs/contracts.md "Integrations"): dispatcher consumer and sender settings; absent or false runs
   * neither in this process (tests of other features). From the environment it is on unless `WEBHOOKS_ENABLED=false`.
   */
  webhooks?: WebhookOptions | false;
  /** `/ready` fails while a projection lags more than this (default {@link DEFAULT_LAG_THRESHOLDS}: 1000 events, 60 s). */
  readiness?: LagThresholds;
  /**
   * Ingest nodes' HTTP base URLs (`INGEST_URL`, comma-separated; default `http://127.0.0.1:8000`) whose admin health
   * `GET /admin/broadcasts` fetches. Absent: no ingest health.
   */
  ingestUrls?: readonly string[];
  /**
   * Longest wait (ms) of a read with `?minPosition=` for the read models to reach that position before answering 503
   * (`QUERY_API_MAX_POSITION_WAIT_MS`, default {@link DEFAULT_MAX_POSITION_WAIT_MS}, 0 = never wait, at most 30000).
   */
  maxPositionWaitMs?: number;
  /**
   * Media storage of recordings and clips (issue 11), for `GET /admin/storage`: the local-disk root (`RECORDINGS_DIR`),
   * the retention in days (`RECORDING_RETENTION_DAYS`, 0 = forever) and the disk budget in bytes
   * (`RECORDING_DISK_BUDGET_GB` GiB, 0 = none). Absent: read from the environment's defaults.
   */
  recordings?: RecordingsConfig;
}

/** See {@link QueryApiConfig.recordings}. */
export interface RecordingsConfig {
  dir: string;
  retentionDays: number;
  budgetBytes: number;
}

/** {@link RecordingsConfig} from the platform settings `RECORDINGS_DIR`, `RECORDING_RETENTION_DAYS`, `RECORDING_DISK_BUDGET_GB` (GiB). */
export function recordingsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RecordingsConfig {
  const c = loadConfig(env);
  return { dir: c.RECORDINGS_DIR, retentionDays: c.RECORDING_RETENTION_DAYS, budgetBytes: Math.round(c.RECORDING_DISK_BUDGET_GB * 2 ** 30) };
}

/**
 * Parses `INGEST_URL`: comma-separated http(s) base URLs (trailing slashes dropped); empty or unset → the default.
 * @throws {Error} naming the variable when an entry is not an http(s) URL.
 */
export function ingestUrlsFromEnv(env: NodeJS.ProcessEnv, fallback = 'http://127.0.0.1:8000'): string[] {
  const raw = env['INGEST_URL']?.trim() || fallback;
  return raw
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0)
    .map((u) => {
      let url: URL;
      try {
        url = new URL(u);
      } catch {
        throw new Error(`invalid configuration: INGEST_URL entry "${u}" is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`invalid configuration: INGEST_URL entry "${u}" must be http(s)`);
      return u.replace(/\/+$/, '');
    });
}

/** Default `max_ack_pending` of the projections consumer: 4 live batches. */
export const DEFAULT_MAX_ACK_PENDING = 4 * DEFAULT_PROJECTOR_BATCH_SIZE;

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`invalid configuration: ${name} must be a positive integer`);
  return n;
}

function nonNegativeInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid configuration: ${name} must be a non-negative integer (0 = no limit)`);
  return n;
}

/**
 * `QUERY_API_MAX_POSITION_WAIT_MS`: 0–30000 ms, default {@link DEFAULT_MAX_POSITION_WAIT_MS}.
 * @throws {Error} naming the variable when it is not an integer in that range.
 */
export function maxPositionWait(env: NodeJS.ProcessEnv): number {
  const n = nonNegativeInt(env, 'QUERY_API_MAX_POSITION_WAIT_MS', DEFAULT_MAX_POSITION_WAIT_MS);
  if (n > 30_000) throw new Error('invalid configuration: QUERY_API_MAX_POSITION_WAIT_MS must be at most 30000 (ms)');
  return n;
}

/**
 * Builds the config from environment variables: `QUERY_API_PORT` (4002), `HOST`, `DATABASE_URL`, `NATS_URL`,
 * `NATS_USER`, `NATS_PASSWORD`, `HLS_PUBLIC_URL`, `JWT_SECRET`, and query-api's own `QUERY_API_EVENTS_STREAM` (`EVENTCAST_EVENTS`), `QUERY_API_CONSUMER`
 * (`query-api-projections`), `QUERY_API_BATCH_SIZE` (256: most live events per transaction; a batch is whatever is
 * already delivered, never waited for), `QUERY_API_MAX_ACK_PENDING` (1024: the consumer's `max_ack_pending`, also the
 * local buffer; the batch size is capped at it), `QUERY_API_ACK_WAIT_MS` (30000), `QUERY_API_RETRY_DELAY_MS` (2000),
 * `QUERY_API_CATCH_UP_BATCH` (500), `EVENT_STORE_DATABASE_URL` (= DATABASE_URL), `EVENT_STORE` (`postgres`),
 * `EVENTSTORE_URL`, `INGEST_URL` (`http://127.0.0.1:8000`), `READINESS_MAX_LAG_EVENTS` (1000) and `READINESS_MAX_LAG_SECONDS` (60; 0 turns a limit off), `QUERY_API_MAX_POSITION_WAIT_MS` (2000: bound of a read-your-writes wait), and the
 * webhook variables of {@link webhookOptionsFromEnv}.
 * @throws {Error} listing invalid variables.
 */
export function queryApiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): QueryApiConfig {
  const c = loadConfig(env);
  return {
    port: c.QUERY_API_PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    eventStoreUrl: env['EVENT_STORE_DATABASE_URL'] || undefined,
    eventStoreKind: c.EVENT_STORE,
    eventStoreDbUrl: c.EVENTSTORE_URL,
    natsUrl: c.NATS_URL,
    natsUser: c.NATS_USER,
    natsPassword: c.NATS_PASSWORD,
    jwtSecret: c.JWT_SECRET,
    hlsPublicUrl: c.HLS_PUBLIC_URL,
    catchUpBatchSize: positiveInt(env, 'QUERY_API_CATCH_UP_BATCH', 500),
    leaderRetryMs: positiveInt(env, 'QUERY_API_LEADER_RETRY_MS', 1000),
    webhooks: webhookOptionsFromEnv(env, c.STREAM_KEY_SECRET, c.WEBHOOK_ALLOW_PRIVATE_NETWORKS),
    ingestUrls: ingestUrlsFromEnv(env),
    recordings: recordingsConfigFromEnv(env),
    maxPositionWaitMs: maxPositionWait(env),
    readiness: {
      maxLagEvents: nonNegativeInt(env, 'READINESS_MAX_LAG_EVENTS', DEFAULT_LAG_THRESHOLDS.maxLagEvents),
      maxLagSeconds: nonNegativeInt(env, 'READINESS_MAX_LAG_SECONDS', DEFAULT_LAG_THRESHOLDS.maxLagSeconds),
    },
    jetstream: {
      stream: env['QUERY_API_EVENTS_STREAM'] || EVENTS_JETSTREAM,
      subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
      consumer: env['QUERY_API_CONSUMER'] || 'query-api-projections',
      maxAckPending: positiveInt(env, 'QUERY_API_MAX_ACK_PENDING', DEFAULT_MAX_ACK_PENDING),
      batchSize: positiveInt(env, 'QUERY_API_BATCH_SIZE', DEFAULT_PROJECTOR_BATCH_SIZE),
      ackWaitMs: positiveInt(env, 'QUERY_API_ACK_WAIT_MS', 30_000),
      retryDelayMs: positiveInt(env, 'QUERY_API_RETRY_DELAY_MS', 2_000),
    },
  };
}
