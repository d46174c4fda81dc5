/**
 * One playback session of the live player on a `<video>`: hls.js (or the browser's native HLS on Safari/iOS) on one
 * playlist URL, with restarts after fatal errors, the `low` mode's own catch-up and live-edge rules, and the quality
 * levels. `Player.svelte` starts one per source (live or DVR) and disposes it when the source changes; it learns what
 * happens through {@link HlsSessionCallbacks} and drives the phase with `player-state.ts`.
 */
import type Hls from 'hls.js';
import type { ErrorData } from 'hls.js';
import type { LatencyMode } from '@eventcast/contracts';
import {
	catchUpRate,
	LOW_LATENCY_MAX_BEHIND_TARGET_DURATIONS,
	PLAIN_HLS_SYNC_TARGET_DURATIONS,
	playerHlsConfig,
	qualityOptions,
	STALL_FREE_RESET_SECONDS,
	type QualityOption,
} from './player-config.ts';
import { restartDelayMs, type PlayerEvent } from './player-state.ts';

/** What a session plays. */
export interface HlsSessionSource {
	/** Playlist URL (live, or the broadcast's recording while rewinding). */
	url: string;
	/** The latency mode applied (the recording always plays as `smooth`). */
	mode: LatencyMode;
	/** Rewinding: seconds from the broadcast start where the recording starts; null: live. */
	dvrAt: number | null;
}

/** What a session reports to its player. */
export interface HlsSessionCallbacks {
	/** A phase event (see `player-state.ts`). */
	event: (e: PlayerEvent) => void;
	/** The running hls.js instance (null when there is none; also kept in `window.__hls` for tests). */
	player: (h: Hls | null) => void;
	/** hls.js's `lowLatencyMode` as configured (null when stopped). */
	appliedLowLatency: (on: boolean | null) => void;
	/** New quality menu entries (empty with fewer than two levels): the choice goes back to Auto. */
	qualities: (q: QualityOption[]) => void;
	/** The level index hls.js plays now. */
	playingQuality: (index: number) => void;
	/** Latency and target latency in seconds (null when unknown), every second. */
	latency: (latency: number | null, target: number | null) => void;
	/** The media time while rewinding (on every `timeupdate`). */
	dvrTime: (seconds: number) => void;
}

/** Starts `play()`; an autoplay refusal (even muted, e.g. data-saver) reports `autoplay-blocked`. */
export async function tryPlay(v: HTMLVideoElement, event: (e: PlayerEvent) => void): Promise<void> {
	try {
		await v.play();
	} catch (err) {
		if (err instanceof DOMException && err.name === 'NotAllowedError') event({ type: 'autoplay-blocked' });
	}
}

/** Starts playing `source` on `v`; returns the dispose function (stops everything and empties the element). */
export function startHlsSession(v: HTMLVideoElement, source: HlsSessionSource, cb: HlsSessionCallbacks): () => void {
	const { url, mode, dvrAt } = source;
	const dvr = dvrAt !== null;
	const hlsConfig = playerHlsConfig(mode, dvrAt);
	let disposed = false;
	let hls: Hls | null = null;
	let restartTimer: ReturnType<typeof setTimeout> | null = null;
	let latencyTimer: ReturnType<typeof setInterval> | null = null;
	let restarts = 0;
	/** `performance.now()` of the last hls.js buffer stall (0: none yet). */
	let lastStallAt = 0;
	cb.event({ type: 'load' });

	const setPlayer = (h: Hls | null) => {
		hls = h;
		window.__hls = h;
		cb.player(h);
	};

	/** Low latency: play a little faster while behind the target (hls.js's own catch-up is off, see player-config). */
	const onTimeupdate = () => {
		const h = hls;
		if (mode !== 'low' || !h || v.paused || !h.latestLevelDetails?.live) {
			if (v.playbackRate !== 1 && mode === 'low') v.playbackRate = 1;
			return;
		}
		const target = h.targetLatency;
		const ranges = v.buffered;
		const forwardBuffer = ranges.length ? ranges.end(ranges.length - 1) - v.currentTime : 0;
		const rate = target === null ? 1 : catchUpRate({ latency: h.latency, targetLatency: target, forwardBuffer, currentRate: v.playbackRate });
		if (rate !== v.playbackRate) v.playbackRate = rate;
	};

	const scheduleRestart = (start: () => void) => {
		cb.event({ type: 'fatal' });
		const delay = restartDelayMs(restarts);
		restarts++;
		restartTimer = setTimeout(() => !disposed && start(), delay);
	};

	const startHls = (HlsCtor: typeof Hls) => {
		hls?.destroy();
		let instance: Hls;
		try {
			instance = new HlsCtor(hlsConfig);
		} catch (err) {
			// An illegal config (hls.js validates it in the constructor) must not leave a silent black box.
			console.error('hls.js refused its configuration', err);
			cb.event({ type: 'fatal' });
			return;
		}
		setPlayer(instance);
		cb.appliedLowLatency(instance.config.lowLatencyMode);
		let mediaRecoveries = 0;

		instance.on(HlsCtor.Events.MANIFEST_PARSED, (_evt, data) => {
			cb.qualities(data.levels.length > 1 ? qualityOptions(data.levels) : []);
			cb.playingQuality(-1);
			void tryPlay(v, cb.event);
		});
		instance.on(HlsCtor.Events.LEVEL_SWITCHED, (_evt, data) => cb.playingQuality(data.level));
		let plainTarget = 0;
		instance.on(HlsCtor.Events.LEVEL_LOADED, (_evt, data) => {
			// Plain HLS (no PART-HOLD-BACK nor HOLD-BACK) in low mode: 2 target durations instead of hls.js's 3. Set
			// once per target duration only: the setter also resets hls.js's stall count.
			const d = data.details;
			const target = PLAIN_HLS_SYNC_TARGET_DURATIONS * d.targetduration;
			if (mode === 'low' && d.live && !d.partHoldBack && !d.holdBack && target !== plainTarget) {
				plainTarget = target;
				instance.targetLatency = target;
			}
		});
		instance.on(HlsCtor.Events.FRAG_BUFFERED, () => {
			restarts = 0;
		});
		instance.on(HlsCtor.Events.ERROR, (_evt, data: ErrorData) => {
			if (data.details === HlsCtor.ErrorDetails.BUFFER_STALLED_ERROR) lastStallAt = performance.now();
			if (!data.fatal) return;
			if (data.type === HlsCtor.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
				mediaRecoveries++;
				instance.recoverMediaError();
				return;
			}
			// Network or unrecoverable error while the channel is live: rebuild the player after a pause.
			instance.destroy();
			if (hls === instance) setPlayer(null);
			scheduleRestart(() => startHls(HlsCtor));
		});
		instance.loadSource(url);
		instance.attachMedia(v);
	};

	const startNative = () => {
		v.src = url;
		if (dvr) v.addEventListener('loadedmetadata', () => (v.currentTime = dvrAt), { once: true });
		void tryPlay(v, cb.event);
	};
	const onDvrTime = () => {
		if (dvr) cb.dvrTime(v.currentTime);
	};
	v.addEventListener('timeupdate', onDvrTime);
	const onNativeError = () => {
		if (!hls && !disposed) scheduleRestart(startNative);
	};

	/** Every second: report the latency; in `low` mode jump back after a long stall and undo stall-raised targets. */
	const everySecond = () => {
		const l = hls?.latency;
		const latency = typeof l === 'number' && Number.isFinite(l) && l > 0 ? l : null;
		const t = hls?.targetLatency;
		const targetLatency = typeof t === 'number' && Number.isFinite(t) && t > 0 ? t : null;
		cb.latency(latency, targetLatency);
		// Low latency: after a long stall, jump back near the live edge instead of staying far behind.
		const td = hls?.latestLevelDetails?.targetduration;
		const sync = hls?.liveSyncPosition;
		if (mode === 'low' && latency !== null && targetLatency !== null && td && typeof sync === 'number' && !v.paused) {
			if (latency > targetLatency + LOW_LATENCY_MAX_BEHIND_TARGET_DURATIONS * td && sync > v.currentTime) v.currentTime = sync;
		}
		// Low latency: a target raised by stalls goes back to PART-HOLD-BACK after a stall-free while.
		const base = hls?.latestLevelDetails?.partHoldBack;
		if (mode === 'low' && hls && base && targetLatency !== null && targetLatency > base + 0.01 && lastStallAt > 0) {
			if (performance.now() - lastStallAt > STALL_FREE_RESET_SECONDS * 1000) {
				hls.targetLatency = base;
				lastStallAt = 0;
			}
		}
	};

	void import('hls.js').then(({ default: HlsCtor }) => {
		if (disposed) return;
		if (HlsCtor.isSupported()) {
			startHls(HlsCtor);
			v.addEventListener('timeupdate', onTimeupdate);
			latencyTimer = setInterval(everySecond, 1000);
		} else if (v.canPlayType('application/vnd.apple.mpegurl')) {
			// Safari / iOS without MSE: native HLS.
			v.addEventListener('error', onNativeError);
			startNative();
		} else {
			cb.event({ type: 'fatal' });
		}
	});

	return () => {
		disposed = true;
		if (restartTimer) clearTimeout(restartTimer);
		if (latencyTimer) clearInterval(latencyTimer);
		v.removeEventListener('error', onNativeError);
		v.removeEventListener('timeupdate', onTimeupdate);
		v.removeEventListener('timeupdate', onDvrTime);
		v.playbackRate = 1;
		const h = hls;
		if (h) {
			h.destroy();
			if (window.__hls === h) window.__hls = null;
		}
		hls = null;
		cb.player(null);
		cb.latency(null, null);
		cb.appliedLowLatency(null);
		cb.qualities([]);
		cb.playingQuality(-1);
		v.removeAttribute('src');
		v.load();
	};
}
