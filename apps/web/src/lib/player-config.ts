/**
 * How the player reads a channel's latency mode and labels renditions (issue 10 items 2 and 3). Pure: hls.js types
 * only, so the page and the Player share one reading.
 *
 * hls.js 1.7 (src/controller/latency-controller.ts, `targetLatency`): with `lowLatencyMode` the target distance from
 * the live edge is the playlist's PART-HOLD-BACK (else HOLD-BACK) unless the page sets `liveSyncDuration` or
 * `liveSyncDurationCount`; `lowLatencyMode: false` loads whole segments, never parts
 * (src/controller/base-stream-controller.ts, `canLoadParts`). hls.js's own catch-up (`onTimeupdate`: playback rate up
 * to `maxLiveSyncPlaybackRate`) only acts while more than one second is buffered ahead (`forwardBufferLength > 1`),
 * which never holds at a 0.7-s target: the player stayed where it started, ≈ 0.5 s behind its target (hls.js
 * `latency` 1.18 s for a 0.70-s target, bench/results/ll-hls-latency.md). So `low` turns it off and the Player
 * catches up itself with {@link catchUpRate}.
 */
import type { HlsConfig, Level, LoaderResponse, RetryConfig } from 'hls.js';
import type { LatencyMode } from '@eventcast/contracts';

/** `smooth`: distance behind the live edge, in target durations (≈ 3 segments of buffer). */
export const SMOOTH_SYNC_TARGET_DURATIONS = 3;
/** `low` on a playlist without PART-HOLD-BACK or HOLD-BACK (plain HLS): distance behind the edge, in target durations. */
export const PLAIN_HLS_SYNC_TARGET_DURATIONS = 2;
/** `low`: fastest catch-up playback rate (1.15× is not noticeable in speech or music). */
export const LOW_LATENCY_MAX_PLAYBACK_RATE = 1.15;
/** `low`: catch-up starts once the player is this many seconds behind its target latency… */
export const CATCH_UP_START_SECONDS = 0.15;
/** …and stops once it is within this many seconds of it (hysteresis: no rate flapping around the target). */
export const CATCH_UP_DONE_SECONDS = 0.05;
/** `low`: seconds of media buffered ahead below which catch-up pauses (faster playback drains the buffer). */
export const CATCH_UP_MIN_BUFFER_SECONDS = 0.3;
/**
 * `low`: how much hls.js raises its target latency after each playback stall (its `liveSyncOnStallIncrease`, default
 * 1 s: two stalls took a 0.7-s target to 2.7 s for the rest of the session, measured). The Player also goes back to
 * PART-HOLD-BACK after {@link STALL_FREE_RESET_SECONDS} without a stall.
 */
export const LOW_LATENCY_STALL_INCREASE_SECONDS = 0.5;
/** `low`: seconds without a stall after which a target raised by stalls returns to the playlist's PART-HOLD-BACK. */
export const STALL_FREE_RESET_SECONDS = 30;
/**
 * `low`: how far beyond its target latency (in target durations) the player may fall (after a stall) before it jumps
 * back to the live sync position. hls.js's own `liveMaxLatencyDurationCount` cannot be used here: it requires
 * `liveSyncDurationCount` (src/config.ts, "must be greater than"), which would override PART-HOLD-BACK.
 */
export const LOW_LATENCY_MAX_BEHIND_TARGET_DURATIONS = 3;

/**
 * The hls.js settings of a latency mode (merged over the Player's loading policies).
 * - `low`: `lowLatencyMode` (parts, blocking playlist reloads, start at PART-HOLD-BACK), no `liveSyncDuration*` so the
 *   server's PART-HOLD-BACK decides; hls.js's own catch-up off (`maxLiveSyncPlaybackRate: 1`): the Player plays at
 *   most 1.15× fast by {@link catchUpRate} and jumps back to the live sync position beyond
 *   {@link LOW_LATENCY_MAX_BEHIND_TARGET_DURATIONS}; a stall raises the target by
 *   {@link LOW_LATENCY_STALL_INCREASE_SECONDS} only.
 * - `smooth`: whole segments, {@link SMOOTH_SYNC_TARGET_DURATIONS} target durations behind the edge, normal speed,
 *   seek back beyond 10 target durations; it starts only once the playlist lists that many segments
 *   (`initialLiveManifestSize`): at a broadcast's start the first segments are short (the ingest's start-up segment
 *   closes with the first part), and starting on them stalled — each stall adds a second to hls.js's target.
 */
export function hlsLatencyConfig(mode: LatencyMode): Partial<HlsConfig> {
	if (mode === 'smooth') {
		return {
			lowLatencyMode: false,
			liveSyncDurationCount: SMOOTH_SYNC_TARGET_DURATIONS,
			liveMaxLatencyDurationCount: 10,
			maxLiveSyncPlaybackRate: 1,
			initialLiveManifestSize: SMOOTH_SYNC_TARGET_DURATIONS,
		};
	}
	return { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1, liveSyncOnStallIncrease: LOW_LATENCY_STALL_INCREASE_SECONDS };
}

/** What {@link catchUpRate} reads, all in seconds except the rate. */
export interface CatchUpState {
	/** hls.js `latency`: estimated live edge (playlist end + its age) minus the playhead. */
	latency: number;
	/** hls.js `targetLatency` (PART-HOLD-BACK, plus its stall increase). */
	targetLatency: number;
	/** Media buffered ahead of the playhead (`buffered.end(last) - currentTime`). */
	forwardBuffer: number;
	/** The media element's current `playbackRate`. */
	currentRate: number;
}

/**
 * The playback rate that brings a `low` player back to its target latency (replacing hls.js's catch-up, see the
 * module comment): 1 when it is within {@link CATCH_UP_START_SECONDS} of the target (or, once catching up, within
 * {@link CATCH_UP_DONE_SECONDS}), when it is ahead of the target, or when less than
 * {@link CATCH_UP_MIN_BUFFER_SECONDS} is buffered; otherwise 1 + 0.3 × the distance, at least 1.05 and at most
 * {@link LOW_LATENCY_MAX_PLAYBACK_RATE} (0.5 s behind → 1.15×, caught up in ≈ 3.5 s), rounded to 0.01. Non-finite
 * inputs give 1.
 */
export function catchUpRate(s: CatchUpState): number {
	const { latency, targetLatency, forwardBuffer, currentRate } = s;
	if (![latency, targetLatency, forwardBuffer, currentRate].every(Number.isFinite)) return 1;
	const behind = latency - targetLatency;
	const catchingUp = currentRate > 1;
	if (behind <= (catchingUp ? CATCH_UP_DONE_SECONDS : CATCH_UP_START_SECONDS)) return 1;
	if (forwardBuffer < CATCH_UP_MIN_BUFFER_SECONDS) return 1;
	const rate = Math.min(LOW_LATENCY_MAX_PLAYBACK_RATE, Math.max(1.05, 1 + 0.3 * behind));
	return Math.round(rate * 100) / 100;
}

/** One entry of the quality menu: hls.js level index and its label. */
export interface QualityOption {
	index: number;
	label: string;
}

/** `1080p60`, `720p`, …: height, plus the frame rate when above 30 fps; the name or bitrate when no height is known. */
export function levelLabel(level: Pick<Level, 'height' | 'frameRate' | 'bitrate' | 'name'>): string {
	if (level.height > 0) return `${level.height}p${level.frameRate > 31 ? Math.round(level.frameRate) : ''}`;
	if (level.name) return level.name;
	return `${Math.round(level.bitrate / 1000)} kb/s`;
}

/**
 * The quality menu's entries for hls.js `levels` (ascending, as hls.js sorts them), highest first. Two levels with
 * the same label get their bitrate added (`720p · 2500 kb/s`).
 */
export function qualityOptions(levels: readonly Pick<Level, 'height' | 'frameRate' | 'bitrate' | 'name'>[]): QualityOption[] {
	const labels = levels.map(levelLabel);
	return levels
		.map((level, index) => {
			const label = labels[index] ?? '';
			const twin = labels.filter((l) => l === label).length > 1;
			return { index, label: twin ? `${label} · ${Math.round(level.bitrate / 1000)} kb/s` : label };
		})
		.reverse();
}

/**
 * hls.js error retry that also retries 404 (and status 0): a new broadcast's playlist can 404 until the packager's
 * first part (≈ 1 s after going live). Every 250 ms, linear, at most 2 s apart, `maxNumRetry` times (each retry is one
 * small request; 500 ms cost up to half a second of the first picture).
 */
export function retry404(maxNumRetry: number): RetryConfig {
	return {
		maxNumRetry,
		retryDelayMs: 250,
		maxRetryDelayMs: 2000,
		backoff: 'linear',
		shouldRetry: (_cfg, count: number, _timeout, res: LoaderResponse | undefined, retry: boolean) =>
			retry || (count < maxNumRetry && (res?.code === 404 || res?.code === 0)),
	};
}

const loadPolicy = (errorRetries: number) => ({
	default: {
		maxTimeToFirstByteMs: 10_000,
		maxLoadTimeMs: 20_000,
		timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
		errorRetry: retry404(errorRetries),
	},
});

/** Loading policies shared by both latency modes and the DVR; {@link hlsLatencyConfig} adds the mode's settings. */
export const HLS_BASE_CONFIG: Partial<HlsConfig> = {
	backBufferLength: 10,
	enableWorker: true,
	manifestLoadPolicy: loadPolicy(40),
	playlistLoadPolicy: loadPolicy(20),
	fragLoadPolicy: loadPolicy(12),
};

/**
 * The player's whole hls.js configuration. Live (`dvrAt` null): {@link HLS_BASE_CONFIG} with the latency mode's
 * settings. Rewinding (`dvrAt`: seconds from the broadcast start): the recording plays as a live EVENT playlist from
 * that time, never pulled to its live edge (`liveMaxLatencyDurationCount: Infinity`), whole segments, normal speed.
 */
export function playerHlsConfig(mode: LatencyMode, dvrAt: number | null): Partial<HlsConfig> {
	if (dvrAt === null) return { ...HLS_BASE_CONFIG, ...hlsLatencyConfig(mode) };
	return {
		...HLS_BASE_CONFIG,
		lowLatencyMode: false,
		liveSyncDurationCount: 3,
		liveMaxLatencyDurationCount: Infinity,
		maxLiveSyncPlaybackRate: 1,
		startPosition: Math.max(0, dvrAt),
	};
}
