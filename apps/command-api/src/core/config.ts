/**
 * Configuration of the command API: the shared {@link Config} of `@eventcast/platform` plus the options only this
 * process reads.
 */
import type { Config } from '@eventcast/platform';

/** Settings read by the command API. `COMMAND_API_PORT` may be 0 (any free port, for tests). */
export type CommandApiConfig = Pick<
  Config,
  | 'DATABASE_URL'
  | 'NATS_URL'
  | 'JWT_SECRET'
  | 'STREAM_KEY_SECRET'
  | 'COMMAND_API_PORT'
  | 'HOST'
  | 'RTMP_PUBLIC_URL'
  | 'INGEST_RTMP_PORT'
  | 'RTMPS_PUBLIC_URL'
  | 'INGEST_RTMPS_PORT'
  | 'EVENT_STORE'
  | 'EVENTSTORE_URL'
  | 'RECORDINGS_DIR'
  | 'RECORDING_RETENTION_DAYS'
  | 'RECORDING_DISK_BUDGET_GB'
  | 'EVENTCAST_ADMINS'
> &
  /** This process's NATS credentials (`natsConnectionOptions` of @eventcast/platform); absent: anonymous. */
  Partial<Pick<Config, 'NATS_USER' | 'NATS_PASSWORD'>> & {
  /** Login + register attempts allowed per client IP per minute (env `AUTH_RATE_LIMIT_PER_MINUTE`, default 20). */
  AUTH_RATE_LIMIT_PER_MINUTE?: number;
  /**
   * Reverse proxies whose `X-Forwarded-For` names the client (env `TRUSTED_PROXIES`, `trustedProxiesFromEnv` of
   * @eventcast/platform); absent or empty: the client is the socket's peer.
   */
  TRUSTED_PROXIES?: readonly string[];
  /** Webhook URLs may name private/loopback hosts (`WEBHOOK_ALLOW_PRIVATE_NETWORKS`, default false). */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS?: boolean;
  /** Seals restream keys for the ingest (`RESTREAM_KEY_SECRET`, 64 hex; default: the all-zero development key). */
  RESTREAM_KEY_SECRET?: string;
  /** Restream targets may name private/loopback hosts (`RESTREAM_ALLOW_PRIVATE_TARGETS`, default false). */
  RESTREAM_ALLOW_PRIVATE_TARGETS?: boolean;
  /**
   * The ingest serves RTMPS, so `/me/stream-key` shows an `rtmpsUrl` (else null): see {@link rtmpsEnabledFromEnv}.
   * Absent: false.
   */
  RTMPS_ENABLED?: boolean;
  /**
   * Period of the recordings retention job, ms (env `RECORDING_RETENTION_INTERVAL_MS`, default
   * {@link DEFAULT_RECORDING_RETENTION_INTERVAL_MS}: 10 min); 0 switches the periodic run off (`POST
   * /admin/retention/run` still works).
   */
  RECORDING_RETENTION_INTERVAL_MS?: number;
  /** Most clips cut at once by this process (`CLIP_CONCURRENCY`, default 2); more get 503. */
  CLIP_CONCURRENCY?: number;
  /** Longest an ffmpeg run of a clip may take, ms (default 60 000); then it is killed and the request gets 503. */
  CLIP_TIMEOUT_MS?: number;
};

/** Default period of the recordings retention job: 10 minutes. */
export const DEFAULT_RECORDING_RETENTION_INTERVAL_MS = 600_000;

/**
 * Reads `RECORDING_RETENTION_INTERVAL_MS` (non-negative integer ms; default 10 min; 0 = no periodic run).
 * @throws {Error} when it is not one.
 */
export function retentionIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['RECORDING_RETENTION_INTERVAL_MS'];
  if (raw === undefined || raw === '') return DEFAULT_RECORDING_RETENTION_INTERVAL_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error('invalid configuration: RECORDING_RETENTION_INTERVAL_MS must be a non-negative integer');
  return n;
}

/**
 * Whether RTMPS is on, as command-api can tell: `RTMPS_PUBLIC_URL` is set, or `INGEST_TLS_CERT_FILE` is (the ingest
 * opens RTMPS only with a certificate; the launcher and quick start hand every app the same environment). A deployment
 * that runs the ingest apart sets RTMPS_PUBLIC_URL for command-api.
 */
export function rtmpsEnabledFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env['RTMPS_PUBLIC_URL']?.trim() || env['INGEST_TLS_CERT_FILE']?.trim());
}

/** Reads `AUTH_RATE_LIMIT_PER_MINUTE` (positive integer, default 20). @throws {Error} when it is not one. */
export function authRateLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['AUTH_RATE_LIMIT_PER_MINUTE'];
  if (raw === undefined || raw === '') return 20;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error('invalid configuration: AUTH_RATE_LIMIT_PER_MINUTE must be a positive integer');
  return n;
}
