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
  /** `INGEST_THUMBNAIL_INTERVAL_MS` (default 15000, ≥ 1000): how often each live channel's thumbnail is remade (./live/thumbnailer.ts). */
  thumbnailIntervalMs: number;
  /** RTMP connection limits enforced by the guard in front of node-media-server (./rtmp-guard.ts). */
  rtmpLimits: RtmpLimits;
}

/**
 * Limits on every RTMP connection (./rtmp-guard.ts; docs/contracts.md "App-specific settings"). Milliseconds and
 * bytes. "Authorized" = the command side allowed the publish (or an internal player's `play` was accepted).
 */
export interface RtmpLimits {
  /** `INGEST_RTMP_HANDSHAKE_TIMEOUT_MS` (10000): from TCP accept until the client sends `publish` or `play`. */
  handshakeTimeoutMs: number;
  /** `INGEST_RTMP_IDLE_TIMEOUT_MS` (15000): an authorized publisher that sends nothing for this long is disconnected. */
  idleTimeoutMs: number;
  /** `INGEST_RTMP_MAX_MESSAGE_BYTES` (65536): longest RTMP message announced before the publish is authorized. */
  maxMessageBytes: number;
  /** `INGEST_RTMP_MAX_MEDIA_MESSAGE_BYTES` (8388608): longest message of an authorized publisher (a video frame). */
  maxMediaMessageBytes: number;
  /** `INGEST_RTMP_MAX_CHUNK_STREAMS` (16): distinct chunk stream ids per connection (encoders use 3 to 6). */
  maxChunkStreams: number;
  /**
   * `INGEST_RTMP_MAX_CONNECTIONS_PER_IP` (10): open RTMP connections per remote address; the internal addresses
   * (loopback and HOST, where the packager and ffprobe connect from) are exempt.
   */
  maxConnectionsPerIp: number;
  /**
   * `INGEST_RTMP_MAX_CONNECTIONS` (1000): open RTMP connections in total from external addresses, so an attack from
   * many addresses is bounded by a count and not only by the handshake deadline; the internal addresses (packager,
   * ffprobe) are exempt, so channels already live keep being packaged while the cap is reached.
   */
  maxConnections: number;
}

/** Default {@link RtmpLimits}. */
export const DEFAULT_RTMP_LIMITS: Readonly<RtmpLimits> = {
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 15_000,
  maxMessageBytes: 64 * 1024,
  maxMediaMessageBytes: 8 * 1024 * 1024,
  maxChunkStreams: 16,
  maxConnectionsPerIp: 10,
  maxConnections: 1000,
};

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid configuration: ${name} must be a non-negative integer`);
  return n;
}

function positiveIntEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = intEnv(env, name, fallback);
  if (n < 1 || n > max) throw new Error(`invalid configuration: ${name} must be an integer from 1 to ${max}`);
  return n;
}

function thumbnailInterval(env: NodeJS.ProcessEnv): number {
  const ms = intEnv(env, 'INGEST_THUMBNAIL_INTERVAL_MS', 15_000);
  if (ms < 1000) throw new Error('invalid configuration: INGEST_THUMBNAIL_INTERVAL_MS must be at least 1000');
  return ms;
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
    thumbnailIntervalMs: thumbnailInterval(env),
    rtmpLimits: {
      handshakeTimeoutMs: positiveIntEnv(env, 'INGEST_RTMP_HANDSHAKE_TIMEOUT_MS', DEFAULT_RTMP_LIMITS.handshakeTimeoutMs),
      idleTimeoutMs: positiveIntEnv(env, 'INGEST_RTMP_IDLE_TIMEOUT_MS', DEFAULT_RTMP_LIMITS.idleTimeoutMs),
      // RTMP message lengths are 24-bit (RTMP 1.0 spec §5.3.1.2.1): 16777215 is the largest a peer can announce.
      maxMessageBytes: positiveIntEnv(env, 'INGEST_RTMP_MAX_MESSAGE_BYTES', DEFAULT_RTMP_LIMITS.maxMessageBytes, 0xffffff),
      maxMediaMessageBytes: positiveIntEnv(env, 'INGEST_RTMP_MAX_MEDIA_MESSAGE_BYTES', DEFAULT_RTMP_LIMITS.maxMediaMessageBytes, 0xffffff),
      maxChunkStreams: positiveIntEnv(env, 'INGEST_RTMP_MAX_CHUNK_STREAMS', DEFAULT_RTMP_LIMITS.maxChunkStreams, 65599),
      maxConnectionsPerIp: positiveIntEnv(env, 'INGEST_RTMP_MAX_CONNECTIONS_PER_IP', DEFAULT_RTMP_LIMITS.maxConnectionsPerIp),
      maxConnections: positiveIntEnv(env, 'INGEST_RTMP_MAX_CONNECTIONS', DEFAULT_RTMP_LIMITS.maxConnections),
    },
  };
}
