/**
 * query-api configuration: the shared variables of docs/contracts.md (via `loadConfig`) plus this app's own.
 */
import { EVENTS_JETSTREAM, EVENTS_SUBJECT_PREFIX } from '@eventcast/events';
import { loadConfig } from '@eventcast/platform';
import type { EventLogReader } from './projections/event-log.js';
import { DEFAULT_PROJECTOR_BATCH_SIZE, type JetStreamProjectorOptions } from './messaging/jetstream-projector.js';

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
  /** HS256 secret of the JWTs command-api issues (`JWT_SECRET`); default: the shared development secret. */
  jwtSecret?: string;
  /** Base of playback URLs; empty → `http://<request host>:8000`. */
  hlsPublicUrl: string;
  /** JetStream stream, subjects, durable consumer, batch and retry tuning. */
  jetstream: JetStreamProjectorOptions;
  /** Events per catch-up transaction (default 500). */
  catchUpBatchSize?: number;
  /** Use this global-log reader instead of constructing a PostgresEventStore (tests); not closed by the app. */
  eventStore?: EventLogReader;
  /** Install SIGTERM/SIGINT handlers that close the app gracefully (default true; tests pass false). */
  shutdownHooks?: boolean;
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

/**
 * Builds the config from environment variables: `QUERY_API_PORT` (4002), `HOST`, `DATABASE_URL`, `NATS_URL`,
 * `HLS_PUBLIC_URL`, `JWT_SECRET`, and query-api's own `QUERY_API_EVENTS_STREAM` (`EVENTCAST_EVENTS`), `QUERY_API_CONSUMER`
 * (`query-api-projections`), `QUERY_API_BATCH_SIZE` (256: most live events per transaction; a batch is whatever is
 * already delivered, never waited for), `QUERY_API_MAX_ACK_PENDING` (1024: the consumer's `max_ack_pending`, also the
 * local buffer; the batch size is capped at it), `QUERY_API_ACK_WAIT_MS` (30000), `QUERY_API_RETRY_DELAY_MS` (2000),
 * `QUERY_API_CATCH_UP_BATCH` (500), `EVENT_STORE_DATABASE_URL` (= DATABASE_URL), `EVENT_STORE` (`postgres`),
 * `EVENTSTORE_URL`.
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
    jwtSecret: c.JWT_SECRET,
    hlsPublicUrl: c.HLS_PUBLIC_URL,
    catchUpBatchSize: positiveInt(env, 'QUERY_API_CATCH_UP_BATCH', 500),
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
