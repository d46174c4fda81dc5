/**
 * Ingest configuration: the shared settings of `@eventcast/platform` (ports, MEDIA_DIR, HLS_SEGMENT_SECONDS,
 * INGEST_PUBLISH_GRACE_MS, FFMPEG_PATH, NATS_URL, …; defaults in docs/contracts.md) plus the knobs only the ingest
 * reads. Every knob is an environment variable.
 */
import { availableParallelism, hostname } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '@eventcast/platform';
import { DEFAULT_HEALTH_SAMPLE_MS } from '@eventcast/contracts';
import { ladderNames, parseRenditionsSetting } from './live/ladder.js';
import { parsePeerOrigins } from './live/peer-origin.js';

/** Full ingest configuration. Durations are milliseconds unless the name says otherwise. */
export interface IngestConfig extends Config {
  /** `INGEST_ID` (default: the host name): identifies this node in `ingest.node-started`. */
  ingestId: string;
  /**
   * `INGEST_PEER_ORIGINS` (default empty): comma-separated base URLs of the other ingest nodes' HTTP origins
   * (`http://host:port`, reachable from this node). `/hls/<channel>/…` of a channel live on another node is answered
   * with that node's response (./live/peer-origin.ts), so any node can serve as the public `HLS_PUBLIC_URL`.
   */
  peerOrigins: string[];
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
  /** `INGEST_HLS_CLEANUP_DELAY_MS` (default 10000): how long a finished channel's playlists and parts stay readable. */
  hlsCleanupDelayMs: number;
  /** `INGEST_FFMPEG_MAX_RESTARTS` (default 5): packager restarts allowed per broadcast while the publisher is connected. */
  ffmpegMaxRestarts: number;
  /** `INGEST_METADATA_WAIT_MS` (default 3000): how long to wait for the publisher's onMetaData before running ffprobe. */
  metadataWaitMs: number;
  /** `INGEST_THUMBNAIL_INTERVAL_MS` (default 15000, ≥ 1000): how often each live channel's thumbnail is remade (./live/thumbnailer.ts). */
  thumbnailIntervalMs: number;
  /** `INGEST_THUMBNAIL_WARM_DECODERS` (default 16, ≥ 0): live channels that keep a warm thumbnail ffmpeg (./live/thumbnailer.ts). */
  thumbnailWarmDecoders: number;
  /** `INGEST_HEALTH_SAMPLE_MS` (default 10000, at least 1000): period of the stream-health samples sent per live channel. */
  healthSampleMs: number;
  /**
   * `INGEST_NO_VIDEO_REFUSE_MS` (default 3000): a publisher that sends this much audio (media time) and no video is
   * refused (`no_video`).
   */
  noVideoRefuseMs: number;
  /** RTMP connection limits enforced by the guard in front of node-media-server (./rtmp-guard.ts). */
  rtmpLimits: RtmpLimits;
  /**
   * RTMPS (issue 10 item 6): `INGEST_TLS_CERT_FILE` and `INGEST_TLS_KEY_FILE`, PEM files (certificate chain, private
   * key). Both set: the ingest listens for `rtmps://` on `INGEST_RTMPS_PORT`; both empty: RTMPS is off (the quick
   * start's launcher generates a self-signed pair under `.eventcast/tls/` and sets them). One without the other is a
   * configuration error.
   */
  tls: { certFile: string; keyFile: string } | null;
  /** Restream (issue 10 item 7); see ./restream.ts. */
  restream: RestreamSettings;
  /**
   * `HLS_PART_SECONDS` (default 0.2, from 0.1 to 1): the LL-HLS part target; the packager's `-frag_duration` and the
   * store's `PART-TARGET`.
   */
  partSeconds: number;
  /**
   * `INGEST_KEYFRAME_FIX` (default `true`; `false` turns it off): re-encode the source video with 1-s keyframes when
   * its keyframe interval exceeds {@link IngestConfig.keyframeFixSeconds} (./live/packager.ts).
   */
  keyframeFix: boolean;
  /**
   * `INGEST_HLS_MAX_HELD_PER_CLIENT` (default 100; 0 = no cap): LL-HLS requests one client address may have held at
   * the origin at once (blocking reloads, preload-hinted parts); more → 429 (./live/origin.ts).
   */
  hlsMaxHeldPerClient: number;
  /** `INGEST_KEYFRAME_FIX_SECONDS` (default 2): the keyframe interval above which the source is re-encoded. */
  keyframeFixSeconds: number;
  /**
   * `INGEST_MAX_REENCODES` (default max(1, floor(cores / 2)); 0 = never): channels whose source this node re-encodes
   * for the keyframe fix at once (≈ 0.6–0.9 core each at 720p–1080p); beyond it a channel stays in passthrough.
   */
  maxReencodes: number;
  /**
   * `INGEST_RENDITIONS` (default `auto`) resolved on this machine: the rendition ladder, `source` first
   * (./live/ladder.ts: `auto` = `source` only below 8 cores, else `source,720p,480p,360p`).
   */
  renditions: string[];
}

/** Restream settings (docs/contracts.md "Restream"). Milliseconds. */
export interface RestreamSettings {
  /** `INGEST_RESTREAM_POLL_MS` (3000): how often a live channel re-reads its enabled targets (enable/disable while live). */
  pollMs: number;
  /** `INGEST_RESTREAM_RETRY_MIN_MS` (1000) and `INGEST_RESTREAM_RETRY_MAX_MS` (30000): backoff of a failed target, doubling. */
  retryMinMs: number;
  retryMaxMs: number;
  /**
   * `INGEST_RESTREAM_TLS_VERIFY` (default `true`): verify an `rtmps://` target's certificate and host name against the
   * system CA bundle (./restream.ts `tlsOutputArgs`). `false` only for tests or a development target with a
   * self-signed certificate.
   */
  tlsVerify?: boolean;
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
  /**
   * `INGEST_RTMP_MAX_PLAYER_BUFFER_BYTES` (8388608): bytes node-media-server may queue for one internal player (the
   * packager, a restream ffmpeg) that reads slower than the stream; over it the player is disconnected (it retries).
   */
  maxPlayerBufferBytes: number;
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
  maxPlayerBufferBytes: 8 * 1024 * 1024,
};

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid configuration: ${name} must be a non-negative integer`);
  return n;
}

function numberEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`invalid configuration: ${name} must be a number from ${min} to ${max}`);
  return n;
}

function boolEnv(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new Error(`invalid configuration: ${name} must be true or false`);
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
  const certFile = env['INGEST_TLS_CERT_FILE'] ?? '';
  const keyFile = env['INGEST_TLS_KEY_FILE'] ?? '';
  if ((certFile === '') !== (keyFile === '')) {
    throw new Error('invalid configuration: INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE must be set together');
  }
  return {
    ...base,
    tls: certFile === '' ? null : { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) },
    restream: {
      pollMs: positiveIntEnv(env, 'INGEST_RESTREAM_POLL_MS', 3000),
      retryMinMs: positiveIntEnv(env, 'INGEST_RESTREAM_RETRY_MIN_MS', 1000),
      retryMaxMs: positiveIntEnv(env, 'INGEST_RESTREAM_RETRY_MAX_MS', 30_000),
      tlsVerify: boolEnv(env, 'INGEST_RESTREAM_TLS_VERIFY', true),
    },
    ingestId: env['INGEST_ID'] || hostname(),
    peerOrigins: parsePeerOrigins(env['INGEST_PEER_ORIGINS']),
    mediaDirAbs: path.resolve(base.MEDIA_DIR),
    ffprobePath: env['FFPROBE_PATH'] || 'ffprobe',
    commandTimeoutMs: intEnv(env, 'INGEST_COMMAND_TIMEOUT_MS', 5000),
    commandSubjectPrefix: prefix,
    hlsCleanupDelayMs: intEnv(env, 'INGEST_HLS_CLEANUP_DELAY_MS', 10_000),
    ffmpegMaxRestarts: intEnv(env, 'INGEST_FFMPEG_MAX_RESTARTS', 5),
    metadataWaitMs: intEnv(env, 'INGEST_METADATA_WAIT_MS', 3000),
    thumbnailIntervalMs: thumbnailInterval(env),
    thumbnailWarmDecoders: intEnv(env, 'INGEST_THUMBNAIL_WARM_DECODERS', 16),
    healthSampleMs: Math.max(1000, positiveIntEnv(env, 'INGEST_HEALTH_SAMPLE_MS', DEFAULT_HEALTH_SAMPLE_MS)),
    noVideoRefuseMs: positiveIntEnv(env, 'INGEST_NO_VIDEO_REFUSE_MS', 3000),
    rtmpLimits: {
      handshakeTimeoutMs: positiveIntEnv(env, 'INGEST_RTMP_HANDSHAKE_TIMEOUT_MS', DEFAULT_RTMP_LIMITS.handshakeTimeoutMs),
      idleTimeoutMs: positiveIntEnv(env, 'INGEST_RTMP_IDLE_TIMEOUT_MS', DEFAULT_RTMP_LIMITS.idleTimeoutMs),
      // RTMP message lengths are 24-bit (RTMP 1.0 spec §5.3.1.2.1): 16777215 is the largest a peer can announce.
      maxMessageBytes: positiveIntEnv(env, 'INGEST_RTMP_MAX_MESSAGE_BYTES', DEFAULT_RTMP_LIMITS.maxMessageBytes, 0xffffff),
      maxMediaMessageBytes: positiveIntEnv(env, 'INGEST_RTMP_MAX_MEDIA_MESSAGE_BYTES', DEFAULT_RTMP_LIMITS.maxMediaMessageBytes, 0xffffff),
      maxChunkStreams: positiveIntEnv(env, 'INGEST_RTMP_MAX_CHUNK_STREAMS', DEFAULT_RTMP_LIMITS.maxChunkStreams, 65599),
      maxConnectionsPerIp: positiveIntEnv(env, 'INGEST_RTMP_MAX_CONNECTIONS_PER_IP', DEFAULT_RTMP_LIMITS.maxConnectionsPerIp),
      maxConnections: positiveIntEnv(env, 'INGEST_RTMP_MAX_CONNECTIONS', DEFAULT_RTMP_LIMITS.maxConnections),
      maxPlayerBufferBytes: positiveIntEnv(env, 'INGEST_RTMP_MAX_PLAYER_BUFFER_BYTES', DEFAULT_RTMP_LIMITS.maxPlayerBufferBytes),
    },
    partSeconds: numberEnv(env, 'HLS_PART_SECONDS', 0.2, 0.1, 1),
    keyframeFix: boolEnv(env, 'INGEST_KEYFRAME_FIX', true),
    keyframeFixSeconds: numberEnv(env, 'INGEST_KEYFRAME_FIX_SECONDS', 2, 1, 30),
    hlsMaxHeldPerClient: intEnv(env, 'INGEST_HLS_MAX_HELD_PER_CLIENT', 100),
    maxReencodes: intEnv(env, 'INGEST_MAX_REENCODES', Math.max(1, Math.floor(availableParallelism() / 2))),
    renditions: ladderNames(parseRenditionsSetting(env['INGEST_RENDITIONS']), availableParallelism()),
  };
}
