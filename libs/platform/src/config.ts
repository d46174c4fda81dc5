/**
 * Process configuration from environment variables, with the defaults of docs/contracts.md.
 */
import { z } from 'zod';
import { natsInboxPrefix, NATS_APP_USERS, type NatsAppUser } from '@eventcast/contracts';

const port = (d: number) => z.coerce.number().int().min(1).max(65535).default(d);

const schema = z.object({
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/eventcast'),
  /** NATS server(s), comma-separated. Default: the platform's own authenticated nats-server (`eventcast-platform up`). */
  NATS_URL: z.string().default('nats://127.0.0.1:4223'),
  /**
   * This process's NATS user and password (docs/contracts.md "NATS: users, permissions, wire form"); both empty:
   * connect anonymously (only private test servers without auth accept that).
   */
  NATS_USER: z.string().default(''),
  NATS_PASSWORD: z.string().default(''),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  JWT_SECRET: z.string().min(16).default('eventcast-dev-jwt-secret-change-me'),
  STREAM_KEY_SECRET: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'STREAM_KEY_SECRET must be 64 hex characters')
    .default('0000000000000000000000000000000000000000000000000000000000000000'),
  COMMAND_API_PORT: port(4001),
  QUERY_API_PORT: port(4002),
  REALTIME_PORT: port(4003),
  INGEST_RTMP_PORT: port(1935),
  /** RTMP over TLS (`rtmps://HOST:PORT/live`); the ingest opens it when a certificate is configured (INGEST_TLS_*). */
  INGEST_RTMPS_PORT: port(1936),
  INGEST_HTTP_PORT: port(8000),
  WEB_PORT: port(3000),
  HOST: z.string().default('0.0.0.0'),
  MEDIA_DIR: z.string().default('.eventcast/media'),
  /**
   * Root of the local-disk media storage (recordings, VOD playlists, clips; @eventcast/media-storage, issue 11). Shared
   * by the ingest (writes recordings, serves `/vod/` and `/clips/`), command-api (clips, deletions, the retention job)
   * and query-api (disk use for admins).
   */
  RECORDINGS_DIR: z.string().default('.eventcast/recordings'),
  /** Recordings and clips older than this many days are deleted by the retention job (0: kept forever). */
  RECORDING_RETENTION_DAYS: z.coerce.number().nonnegative().default(30),
  /** Disk budget of recordings and clips in GiB: the retention job deletes the oldest VODs above it (0: no budget). */
  RECORDING_DISK_BUDGET_GB: z.coerce.number().nonnegative().default(0),
  /** Public RTMP URL shown to streamers; derived from the request host when empty. */
  RTMP_PUBLIC_URL: z.string().default(''),
  /** Public RTMPS URL shown to streamers; derived from the request host and INGEST_RTMPS_PORT when empty. */
  RTMPS_PUBLIC_URL: z.string().default(''),
  /** Base of playback URLs; derived from the request host when empty. */
  HLS_PUBLIC_URL: z.string().default(''),
  /** HLS segment duration in seconds. */
  HLS_SEGMENT_SECONDS: z.coerce.number().positive().default(1),
  /** node-media-server publish grace period (ms) before an unpublish ends the broadcast. */
  INGEST_PUBLISH_GRACE_MS: z.coerce.number().int().nonnegative().default(3000),
  FFMPEG_PATH: z.string().default('ffmpeg'),
  EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
  /**
   * Outgoing webhooks may target private, loopback and link-local addresses (`true` for local development and tests;
   * default `false`: such URLs are refused at registration and at connect time, against server-side request forgery).
   */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z
    .enum(['true', 'false'], { message: 'WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  EVENTSTORE_URL: z.string().default(''),
  /**
   * AES-256-GCM key (64 hex) sealing restream-target stream keys for the ingest in `ingest.restream-targets` replies
   * (issue 10 item 7): only command-api and the ingest hold it. The stored copy stays under STREAM_KEY_SECRET.
   */
  RESTREAM_KEY_SECRET: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'RESTREAM_KEY_SECRET must be 64 hex characters')
    .default('0000000000000000000000000000000000000000000000000000000000000000'),
  /**
   * Restream targets may name private, loopback and link-local hosts (`true` for local development and tests; default
   * `false`: refused when added and, after DNS resolution, by the ingest before it connects — server-side request forgery).
   */
  RESTREAM_ALLOW_PRIVATE_TARGETS: z
    .enum(['true', 'false'], { message: 'RESTREAM_ALLOW_PRIVATE_TARGETS must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  /**
   * Platform administrators: comma-separated usernames (case-insensitive), e.g. `alice,bob`. Admins see every
   * channel's analytics, the admin pages and the audit trail. Empty: nobody is an admin.
   */
  EVENTCAST_ADMINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((u) => u.trim().toLowerCase()).filter((u) => u.length > 0)),
});

export type Config = z.infer<typeof schema>;

/**
 * Reads and validates configuration.
 * @throws {Error} listing every invalid variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const r = schema.safeParse(env);
  if (!r.success) {
    throw new Error(`invalid configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/**
 * Whether `username` is a platform administrator under `config.EVENTCAST_ADMINS` (case-insensitive).
 * @param username the account's username as in the JWT `username` claim.
 */
export function isAdmin(config: Pick<Config, 'EVENTCAST_ADMINS'>, username: string): boolean {
  return config.EVENTCAST_ADMINS.includes(username.toLowerCase());
}

/**
 * Connection options of a NATS client of `app`, for nats.js v3 `connect()` and the @nestjs/microservices 12 NATS
 * transport alike (both take `servers`, `user`, `pass`, `inboxPrefix`, `name`): the servers of `NATS_URL`
 * (comma-separated), the credentials of `NATS_USER` / `NATS_PASSWORD` when set, and the app's own inbox prefix
 * (`natsInboxPrefix` of @eventcast/contracts), which the server's permissions restrict to that app, and
 * `noAsyncTraces: true`: nats.js otherwise builds an Error (with its stack) for every request and every request timer
 * to make async stack traces, measured at 13–15 % of command-api's and the edge's CPU on the chat path
 * (bench/results/command-path.md); its errors still say what failed, without the caller's stack.
 * The one place where apps turn configuration into NATS credentials.
 * @param app the NATS user the process runs as (its app name).
 * @throws {Error} when only one of NATS_USER and NATS_PASSWORD is set, or NATS_USER names another app.
 */
export function natsConnectionOptions(
  config: Pick<Config, 'NATS_URL'> & Partial<Pick<Config, 'NATS_USER' | 'NATS_PASSWORD'>>,
  app: NatsAppUser,
): { servers: string[]; name: string; inboxPrefix: string; noAsyncTraces: boolean; user?: string; pass?: string } {
  if (!NATS_APP_USERS.includes(app)) throw new Error(`unknown NATS app user "${app}"`);
  const servers = config.NATS_URL.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const base = { servers, name: `eventcast-${app}`, inboxPrefix: natsInboxPrefix(app), noAsyncTraces: true };
  const user = config.NATS_USER ?? '';
  const pass = config.NATS_PASSWORD ?? '';
  if (user === '' && pass === '') return base;
  if (user === '' || pass === '') throw new Error('invalid configuration: NATS_USER and NATS_PASSWORD must be set together');
  if (user !== app) throw new Error(`invalid configuration: NATS_USER is "${user}" but this process is ${app}`);
  return { ...base, user, pass };
}
