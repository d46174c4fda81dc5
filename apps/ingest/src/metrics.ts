/**
 * The ingest node's Prometheus metrics (README, "Observability") on the process registry of @eventcast/platform,
 * served at `GET /metrics` on INGEST_HTTP_PORT (./live/origin.ts):
 * - `eventcast_ingest_active_broadcasts` (broadcasts recorded by this node and not ended) and
 *   `eventcast_ingest_publishers_connected` (RTMP publishers connected; a dropped one in its grace period is not);
 * - `eventcast_ingest_received_bytes_total{channel}`: RTMP bytes received from each live channel's publisher
 *   (node-media-server's `session.inBytes`), so `rate(...[30s]) * 8` is the measured ingest bitrate in bit/s;
 * - `eventcast_ingest_video_bitrate_kbps{channel}`: the bitrate the encoder announced (`onMetaData` videodatarate,
 *   MediaInfo.videoBitrateKbps), when it did;
 * - `eventcast_ingest_packager_starts_total`, `eventcast_ingest_packager_exits_total{outcome}` (`ok` exit 0,
 *   `error` non-zero, `signal`), `eventcast_ingest_packager_restarts_total`, `eventcast_ingest_packager_gave_up_total`.
 * Channel labels are usernames of channels live on this node (series of ended channels are dropped).
 */
import { counter, gauge } from '@eventcast/platform';

/** What the metrics read from the channel manager at scrape time. */
export interface LiveChannelSample {
  username: string;
  /** Publisher connected now. */
  connected: boolean;
  /** A broadcast was recorded and has not ended. */
  broadcasting: boolean;
  /** NMS session id of the current publisher and its byte counter (`session.inBytes`). */
  sessionId: string;
  inBytes: number;
  /** Announced video bitrate (kbit/s), null when unknown. */
  videoBitrateKbps: number | null;
}

/** Something that lists the live channels of this node (the ChannelManager). */
export interface LiveChannelSource {
  sample(): LiveChannelSample[];
}

const sources = new Set<LiveChannelSource>();
const samples = (): LiveChannelSample[] => [...sources].flatMap((s) => s.sample());

gauge({
  name: 'eventcast_ingest_active_broadcasts',
  help: 'Broadcasts started on this ingest node and not ended yet.',
  collect() {
    this.set(samples().filter((s) => s.broadcasting).length);
  },
});
gauge({
  name: 'eventcast_ingest_publishers_connected',
  help: 'RTMP publishers connected to this ingest node.',
  collect() {
    this.set(samples().filter((s) => s.connected).length);
  },
});

/** Bytes already counted per channel: the session they came from and its counter then. */
const counted = new Map<string, { sessionId: string; inBytes: number; total: number }>();
counter({
  name: 'eventcast_ingest_received_bytes_total',
  help: 'RTMP bytes received from each live channel publisher (rate()*8 = ingest bitrate in bit/s).',
  labelNames: ['channel'],
  collect() {
    const live = samples();
    const seen = new Set<string>();
    for (const s of live) {
      seen.add(s.username);
      const prev = counted.get(s.username);
      // A reconnect is a new session whose counter starts at 0: add all of it.
      const added = prev && prev.sessionId === s.sessionId ? Math.max(0, s.inBytes - prev.inBytes) : s.inBytes;
      counted.set(s.username, { sessionId: s.sessionId, inBytes: s.inBytes, total: (prev?.total ?? 0) + added });
    }
    for (const name of counted.keys()) if (!seen.has(name)) counted.delete(name);
    this.reset();
    for (const [channel, c] of counted) this.inc({ channel }, c.total);
  },
});
gauge({
  name: 'eventcast_ingest_video_bitrate_kbps',
  help: 'Video bitrate announced by the encoder (onMetaData videodatarate), kbit/s, per live channel.',
  labelNames: ['channel'],
  collect() {
    this.reset();
    for (const s of samples()) if (s.videoBitrateKbps !== null) this.set({ channel: s.username }, s.videoBitrateKbps);
  },
});

const starts = counter({ name: 'eventcast_ingest_packager_starts_total', help: 'ffmpeg HLS packager processes started (first starts and restarts).' });
const exits = counter({ name: 'eventcast_ingest_packager_exits_total', help: 'ffmpeg HLS packager exits, by outcome (ok, error, signal).', labelNames: ['outcome'] });
const restarts = counter({ name: 'eventcast_ingest_packager_restarts_total', help: 'ffmpeg HLS packager restarts scheduled after an unexpected exit.' });
const gaveUp = counter({ name: 'eventcast_ingest_packager_gave_up_total', help: 'Times a packager stopped restarting after INGEST_FFMPEG_MAX_RESTARTS failures.' });

/** Counters of the packager (./live/packager.ts). */
export const packagerMetrics = {
  started(): void {
    starts.inc();
  },
  /** ffmpeg exited with `code` or was ended by `signal`. */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    exits.inc({ outcome: signal ? 'signal' : code === 0 ? 'ok' : 'error' });
  },
  restarting(): void {
    restarts.inc();
  },
  gaveUp(): void {
    gaveUp.inc();
  },
};

/**
 * Adds a channel source to the scrape.
 * @returns the function that removes it (call on stop).
 */
export function reportLiveChannels(source: LiveChannelSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

const recordingWrites = counter({
  name: 'eventcast_ingest_recording_writes_total',
  help: 'Recording writes to the media storage (issue 11), by kind (init, segment, playlist, multivariant, manifest, thumbnail, delete) and outcome (ok, failed, dropped: the bounded write queue overflowed).',
  labelNames: ['kind', 'outcome'],
});
const recordingBytes = counter({ name: 'eventcast_ingest_recording_bytes_total', help: 'Media bytes (init and media segments) written to recordings.' });
const recordingsFinalized = counter({
  name: 'eventcast_ingest_recordings_finalized_total',
  help: 'Recordings finalized at the end of a broadcast, by outcome (announced, not_kept: deleted, empty: no media, failed).',
  labelNames: ['outcome'],
});
const pendingSources = new Set<() => number>();
gauge({
  name: 'eventcast_ingest_recording_pending_bytes',
  help: 'Bytes of recording writes queued in memory, not yet in the media storage.',
  collect() {
    let n = 0;
    for (const f of pendingSources) n += f();
    this.set(n);
  },
});

/** Counters of the recorder (./live/recorder.ts). */
export const recordingMetrics = {
  /** One write of `kind` ended with `outcome`; `bytes` media bytes written (ok only). */
  write(kind: string, outcome: 'ok' | 'failed' | 'dropped', bytes = 0): void {
    recordingWrites.inc({ kind, outcome });
    if (outcome === 'ok' && bytes > 0) recordingBytes.inc(bytes);
  },
  finalized(outcome: 'announced' | 'not_kept' | 'empty' | 'failed'): void {
    recordingsFinalized.inc({ outcome });
  },
  /** Adds a source of the pending-bytes gauge; @returns its removal. */
  pending(source: () => number): () => void {
    pendingSources.add(source);
    return () => pendingSources.delete(source);
  },
};
