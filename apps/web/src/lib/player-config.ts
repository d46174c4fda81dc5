/**
 * How the player reads a channel's latency mode and labels renditions (issue 10 items 2 and 3). Pure: hls.js types
 * only, so the page and the Player share one reading.
 *
 * hls.js 1.7 (src/controller/latency-controller.ts, `targetLatency`): with `lowLatencyMode` the target distance from
 * the live edge is the playlist's PART-HOLD-BACK (else HOLD-BACK) unless the page sets `liveSyncDuration` or
 * `liveSyncDurationCount`, and only in `lowLatencyMode` does it speed playback up (≤ `maxLiveSyncPlaybackRate`) to
 * get back to that target; `lowLatencyMode: false` loads whole segments, never parts
 * (src/controller/base-stream-controller.ts, `canLoadParts`).
 */
import type { HlsConfig, Level } from 'hls.js';
import type { LatencyMode } from '@eventcast/contracts';

/** `smooth`: distance behind the live edge, in target durations (≈ 3 segments of buffer). */
export const SMOOTH_SYNC_TARGET_DURATIONS = 3;
/** `low` on a playlist without PART-HOLD-BACK or HOLD-BACK (plain HLS): distance behind the edge, in target durations. */
export const PLAIN_HLS_SYNC_TARGET_DURATIONS = 2;
/** `low`: fastest catch-up playback rate (1.15× is not noticeable in speech or music). */
export const LOW_LATENCY_MAX_PLAYBACK_RATE = 1.15;
/**
 * `low`: how far beyond its target latency (in target durations) the player may fall (after a stall) before it jumps
 * back to the live sync position. hls.js's own `liveMaxLatencyDurationCount` cannot be used here: it requires
 * `liveSyncDurationCount` (src/config.ts, "must be greater than"), which would override PART-HOLD-BACK.
 */
export const LOW_LATENCY_MAX_BEHIND_TARGET_DURATIONS = 3;

/**
 * The hls.js settings of a latency mode (merged over the Player's loading policies).
 * - `low`: `lowLatencyMode` (parts, blocking playlist reloads, start at PART-HOLD-BACK), no `liveSyncDuration*` so the
 *   server's PART-HOLD-BACK decides; catch up by playing at most 1.15× fast (the Player jumps back to the live sync
 *   position beyond {@link LOW_LATENCY_MAX_BEHIND_TARGET_DURATIONS}).
 * - `smooth`: whole segments, {@link SMOOTH_SYNC_TARGET_DURATIONS} target durations behind the edge, normal speed,
 *   seek back beyond 10 target durations.
 */
export function hlsLatencyConfig(mode: LatencyMode): Partial<HlsConfig> {
	if (mode === 'smooth') {
		return { lowLatencyMode: false, liveSyncDurationCount: SMOOTH_SYNC_TARGET_DURATIONS, liveMaxLatencyDurationCount: 10, maxLiveSyncPlaybackRate: 1 };
	}
	return { lowLatencyMode: true, maxLiveSyncPlaybackRate: LOW_LATENCY_MAX_PLAYBACK_RATE };
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
