/**
 * Ingest configuration: the shared settings of `@eventcast/platform` (ports, MEDIA_DIR, HLS_SEGMENT_SECONDS,
 * INGEST_PUBLISH_GRACE_MS, FFMPEG_PATH, NATS_URL, …; defaults in docs/contracts.md) plus the knobs only the ingest
 * reads. Every knob is an environment variable.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '@eventcast/platform';

/** Full ingest configuration. Durations are milliseconds unless the name says otherwise. */
export interface IngestConfig extends Config {
  /** `INGEST_ID` (default: the host name): identifies this node in `ingest.node-started`. */
  ingestId: string;
  /** `MEDIA_DIR` resolved to an absolute path. */
  mediaDirAbs: string;
  /** `FFPROBE_PATH` (default `ffprobe`). */
  ffprobePath: string;
  /** `INGEST_COMMAND_TIMEOUT_MS` (default 5000): a command-side request without a reply by then fails (fail closed). */
  commandTimeoutMs: number;
  /**
   * `INGEST_COMMAND_SUBJECT_PREFIX` (default empty): prepended to every command pattern. Test-only isolation on a
   * shared NATS server; production leaves it empty so the subjects are exactly those of docs/contracts.md.
   */
  commandSubjectPrefix: string;
  /** `INGEST_HLS_CLEANUP_DELAY_MS` (default 10000): how long a finished channel's HLS directory stays readable. */
  hlsCleanupDelayMs: number;
  /** `INGEST_FFMPEG_MAX_RESTARTS` (default 5): packager restarts allowed per broadcast while the publisher is connected. */
  ffmpegMaxRestarts: number;
  /** `INGEST_METADATA_WAIT_MS` (default 3000): how long to wait for the publisher's onMetaData before running ffprobe. */
  metadataWaitMs: number;
}

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid configuration: ${name} must be a non-negative integer`);
  return n;
}

/**
 * Reads and validates the ingest configuration from `env`.
 * @throws {Error} when a variable is invalid (the message names it).
 */
export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const base = loadConfig(env);
  const prefix = env['INGEST_COMMAND_SUBJECT_PREFIX'] ?? '';
  if (!/^[A-Za-z0-9_.-]*$/.test(prefix)) {
    throw new Error('invalid configuration: INGEST_COMMAND_SUBJECT_PREFIX may contain only A-Z a-z 0-9 _ . -');
  }
  return {
    ...base,
    ingestId: env['INGEST_ID'] || hostname(),
    mediaDirAbs: path.resolve(base.MEDIA_DIR),
    ffprobePath: env['FFPROBE_PATH'] || 'ffprobe',
    commandTimeoutMs: intEnv(env, 'INGEST_COMMAND_TIMEOUT_MS', 5000),
    commandSubjectPrefix: prefix,
    hlsCleanupDelayMs: intEnv(env, 'INGEST_HLS_CLEANUP_DELAY_MS', 10_000),
    ffmpegMaxRestarts: intEnv(env, 'INGEST_FFMPEG_MAX_RESTARTS', 5),
    metadataWaitMs: intEnv(env, 'INGEST_METADATA_WAIT_MS', 3000),
  };
}
