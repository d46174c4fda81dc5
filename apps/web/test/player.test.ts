// The live player's state machine and DVR arithmetic (src/lib/player-state.ts) and its hls.js configuration
// (src/lib/player-config.ts): pure functions, no browser.
import { describe, expect, test } from 'vitest';
import type { LoaderResponse, RetryConfig } from 'hls.js';
import {
	catchUpRate,
	hlsLatencyConfig,
	HLS_BASE_CONFIG,
	levelLabel,
	playerHlsConfig,
	qualityOptions,
	retry404,
} from '#lib/player-config.ts';
import {
	dvrBehindSeconds,
	dvrSeek,
	dvrSeekValue,
	elapsedSeconds,
	LIVE_EDGE_SECONDS,
	nextPhase,
	playerOverlay,
	restartDelayMs,
	type PlayerEvent,
	type PlayerPhase,
} from '#lib/player-state.ts';

/** The phases a sequence of events leads through, from `idle`. */
function run(...events: PlayerEvent['type'][]): PlayerPhase[] {
	const out: PlayerPhase[] = [];
	let phase: PlayerPhase = 'idle';
	for (const type of events) out.push((phase = nextPhase(phase, { type })));
	return out;
}

describe('player state machine', () => {
	test('load → playing ⇄ buffering; unload → idle', () => {
		expect(run('load', 'playing', 'waiting', 'playing', 'unload')).toEqual(['loading', 'playing', 'buffering', 'playing', 'idle']);
	});

	test('waiting only buffers while playing (a stall while loading stays loading)', () => {
		expect(run('load', 'waiting')).toEqual(['loading', 'loading']);
		expect(run('autoplay-blocked', 'waiting')).toEqual(['blocked', 'blocked']);
	});

	test('autoplay refused → blocked → a click loads again; a fatal error retries and a restart loads', () => {
		expect(run('load', 'autoplay-blocked', 'click-to-play', 'playing')).toEqual(['loading', 'blocked', 'loading', 'playing']);
		expect(run('load', 'playing', 'fatal', 'load', 'playing')).toEqual(['loading', 'playing', 'retrying', 'loading', 'playing']);
	});

	test('restarts back off 1 s, 2 s, 4 s, then stay at 8 s', () => {
		expect([0, 1, 2, 3, 4, 10].map(restartDelayMs)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
	});

	test('the overlay: spinner with a status while loading or retrying, bare while buffering; unmute and controls only when shown', () => {
		expect(playerOverlay('loading', true)).toEqual({ spinner: true, status: 'Starting the stream…', playButton: false, unmute: false, controls: false });
		expect(playerOverlay('retrying', true)).toMatchObject({ spinner: true, status: 'Reconnecting to the stream…' });
		expect(playerOverlay('buffering', true)).toEqual({ spinner: true, status: null, playButton: false, unmute: true, controls: true });
		expect(playerOverlay('playing', false)).toEqual({ spinner: false, status: null, playButton: false, unmute: false, controls: true });
		expect(playerOverlay('blocked', true)).toMatchObject({ playButton: true, spinner: false, unmute: false });
		// Without a source nothing is drawn over the video (the element keeps its controls state).
		expect(playerOverlay('loading', true, false)).toMatchObject({ spinner: false, status: null, playButton: false, unmute: false });
	});
});

describe('DVR (rewind while live)', () => {
	test('a release near the live edge goes live, earlier plays the recording, garbage goes nowhere', () => {
		expect(dvrSeek(600 - LIVE_EDGE_SECONDS, 600)).toEqual({ to: 'live' });
		expect(dvrSeek(700, 600)).toEqual({ to: 'live' });
		expect(dvrSeek(589.5, 600)).toEqual({ to: 'recording', at: 589.5 });
		expect(dvrSeek(-3, 600)).toEqual({ to: 'recording', at: 0 });
		expect(dvrSeek(Number.NaN, 600)).toEqual({ to: 'nowhere' });
	});

	test('position, seek bar value and elapsed time', () => {
		expect(dvrBehindSeconds(true, 600, 450)).toBe(150);
		expect(dvrBehindSeconds(true, 600, 610)).toBe(0);
		expect(dvrBehindSeconds(false, 600, 450)).toBe(0);
		expect(dvrSeekValue(null, true, 600, 450)).toBe(450);
		expect(dvrSeekValue(null, true, 600, 650)).toBe(600);
		expect(dvrSeekValue(null, false, 600, 450)).toBe(600);
		expect(dvrSeekValue(120, true, 600, 450)).toBe(120);
		const start = '2026-12-07T12:00:00.000Z';
		expect(elapsedSeconds(start, Date.parse(start) + 90_500)).toBe(90.5);
		expect(elapsedSeconds(start, Date.parse(start) - 1000)).toBe(0);
		expect(elapsedSeconds(null, 0)).toBeNull();
		expect(elapsedSeconds('not a date', 0)).toBeNull();
	});
});

describe('player configuration', () => {
	test('latency modes: low leaves the target to PART-HOLD-BACK, smooth sits 3 segments back', () => {
		expect(hlsLatencyConfig('low')).toEqual({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1, liveSyncOnStallIncrease: 0.5 });
		const smooth = hlsLatencyConfig('smooth');
		expect(smooth).toMatchObject({ lowLatencyMode: false, liveSyncDurationCount: 3, liveMaxLatencyDurationCount: 10, initialLiveManifestSize: 3 });
		expect(hlsLatencyConfig('low')).not.toHaveProperty('liveSyncDurationCount');
	});

	test('live uses the loading policies plus the mode; the recording starts at the chosen time and is never pulled to its edge', () => {
		expect(playerHlsConfig('low', null)).toEqual({ ...HLS_BASE_CONFIG, ...hlsLatencyConfig('low') });
		const dvr = playerHlsConfig('low', 95);
		expect(dvr).toMatchObject({ lowLatencyMode: false, startPosition: 95, liveMaxLatencyDurationCount: Infinity, maxLiveSyncPlaybackRate: 1 });
		expect(dvr.manifestLoadPolicy).toBe(HLS_BASE_CONFIG.manifestLoadPolicy);
		expect(playerHlsConfig('smooth', -4).startPosition).toBe(0);
	});

	test('playlists that 404 before the first part are retried, other client errors are not', () => {
		const retry: RetryConfig = retry404(3);
		const should = (count: number, code: number, hlsWouldRetry = false) =>
			retry.shouldRetry!(retry, count, false, { code, text: '', url: '' } as LoaderResponse, hlsWouldRetry);
		expect(should(0, 404)).toBe(true);
		expect(should(2, 0)).toBe(true);
		expect(should(3, 404)).toBe(false);
		expect(should(0, 403)).toBe(false);
		expect(should(5, 500, true)).toBe(true);
		expect(HLS_BASE_CONFIG.manifestLoadPolicy?.default.errorRetry?.maxNumRetry).toBe(40);
		expect(HLS_BASE_CONFIG.fragLoadPolicy?.default.errorRetry?.maxNumRetry).toBe(12);
	});

	test('catch-up: 1 within the target (with hysteresis), ahead, or on a thin buffer; else 1.05–1.15×', () => {
		const at = (latency: number, currentRate = 1, forwardBuffer = 2) => catchUpRate({ latency, targetLatency: 1, forwardBuffer, currentRate });
		expect(at(1.1)).toBe(1);
		expect(at(1.1, 1.1)).toBe(1.05); // already catching up: continues until within 0.05 s
		expect(at(1.04, 1.1)).toBe(1);
		expect(at(0.5)).toBe(1);
		expect(at(1.2)).toBe(1.06);
		expect(at(1.5)).toBe(1.15);
		expect(at(4)).toBe(1.15);
		expect(at(2, 1, 0.2)).toBe(1);
		expect(at(Number.NaN)).toBe(1);
	});

	test('quality menu: highest first, frame rate above 30 fps, twins told apart by bitrate', () => {
		const levels = [
			{ height: 360, frameRate: 30, bitrate: 800_000, name: '' },
			{ height: 720, frameRate: 30, bitrate: 2_500_000, name: '' },
			{ height: 720, frameRate: 30, bitrate: 4_000_000, name: '' },
			{ height: 1080, frameRate: 60, bitrate: 6_000_000, name: '' },
		];
		expect(qualityOptions(levels)).toEqual([
			{ index: 3, label: '1080p60' },
			{ index: 2, label: '720p · 4000 kb/s' },
			{ index: 1, label: '720p · 2500 kb/s' },
			{ index: 0, label: '360p' },
		]);
		expect(levelLabel({ height: 0, frameRate: 0, bitrate: 128_000, name: 'audio' })).toBe('audio');
		expect(levelLabel({ height: 0, frameRate: 0, bitrate: 128_000, name: '' })).toBe('128 kb/s');
	});
});
