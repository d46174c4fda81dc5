/**
 * Process configuration from environment variables, with the defaults of docs/contracts.md.
 */
import { z } from 'zod';

const port = (d: number) => z.coerce.number().int().min(1).max(65535).default(d);

const schema = z.object({
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/eventcast'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
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
  INGEST_HTTP_PORT: port(8000),
  WEB_PORT: port(3000),
  HOST: z.string().default('0.0.0.0'),
  MEDIA_DIR: z.string().default('.eventcast/media'),
  /** Public RTMP URL shown to streamers; derived from the request host when empty. */
  RTMP_PUBLIC_URL: z.string().default(''),
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
