/**
 * Configuration of the command API: the shared {@link Config} of `@eventcast/platform` plus the options only this
 * process reads.
 */
import { parseRateLimits, type RateLimitConfig } from '@eventcast/contracts';
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
  | 'REDIS_URL'
> &
  /** This process's NATS credentials (`natsConnectionOptions` of @eventcast/platform); absent: anonymous. */
  Partial<Pick<Config, 'NATS_USER' | 'NATS_PASSWORD'>> & {
  /**
   * Rate-limit budgets (env `RATE_LIMITS`, `parseRateLimits` of @eventcast/contracts; the deprecated
   * `AUTH_RATE_LIMIT_PER_MINUTE=N` still sets `auth` to N per minute). Absent: the defaults (auth 100/15 min, api 1200/min).
   */
  RATE_LIMITS?: RateLimitConfig;
  /** Prefix of the rate-limit keys in Redis (env `RATE_LIMIT_KEY_PREFIX`, default `eventcast:rl`): one per deployment. */
  RATE_LIMIT_KEY_PREFIX?: string;
  /** Lifetime of access tokens, seconds (env `AUTH_ACCESS_TOKEN_TTL_SECONDS`, default 900: 15 min). */
  AUTH_ACCESS_TOKEN_TTL_SECONDS?: number;
  /** Idle lifetime of a session (its refresh token), days (env `AUTH_SESSION_IDLE_DAYS`, default 30). */
  AUTH_SESSION_IDLE_DAYS?: number;
  /** When the refresh cookie is `Secure` (env `AUTH_COOKIE_SECURE`: auto (default), always, never). */
  AUTH_COOKIE_SECURE?: 'auto' | 'always' | 'never';
  /**
   * Origins allowed to call `/auth/*` with credentials (the refresh cookie; env `CORS_ORIGINS`, comma-separated);
   * absent: any origin's request is answered for its own origin (the cookie is SameSite=Strict, so a cross-site page
   * never gets it sent). Other routes answer every origin (`*`, bearer tokens only).
   */
  CORS_ORIGINS?: readonly string[];
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

/**
 * Reads `RATE_LIMITS` (see `parseRateLimits` of @eventcast/contracts) and the deprecated `AUTH_RATE_LIMIT_PER_MINUTE`
 * (positive integer: `auth` = that many per minute, unless `RATE_LIMITS` names `auth`).
 * @throws {Error} when either is malformed.
 */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimitConfig {
  const config = parseRateLimits(env['RATE_LIMITS']);
  const raw = env['AUTH_RATE_LIMIT_PER_MINUTE'];
  if (raw !== undefined && raw !== '' && !/(^|,)\s*auth\s*=/.test(env['RATE_LIMITS'] ?? '')) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error('invalid configuration: AUTH_RATE_LIMIT_PER_MINUTE must be a positive integer');
    config.budgets.auth = { limit: n, windowSeconds: 60 };
  }
  return config;
}

/**
 * Reads the session settings: `AUTH_ACCESS_TOKEN_TTL_SECONDS` (integer 30–86 400, default 900) and
 * `AUTH_SESSION_IDLE_DAYS` (integer 1–365, default 30).
 * @throws {Error} when one is set to anything else.
 */
export function sessionSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): { AUTH_ACCESS_TOKEN_TTL_SECONDS: number; AUTH_SESSION_IDLE_DAYS: number } {
  const int = (name: string, min: number, max: number, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`invalid configuration: ${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  return { AUTH_ACCESS_TOKEN_TTL_SECONDS: int('AUTH_ACCESS_TOKEN_TTL_SECONDS', 30, 86_400, 900), AUTH_SESSION_IDLE_DAYS: int('AUTH_SESSION_IDLE_DAYS', 1, 365, 30) };
}

/** Reads `CORS_ORIGINS` (comma-separated origins such as `https://example.com`); undefined when unset or empty. */
export function corsOriginsFromEnv(env: NodeJS.ProcessEnv = process.env): readonly string[] | undefined {
  const list = (env['CORS_ORIGINS'] ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
  return list.length > 0 ? list : undefined;
}
