/**
 * The live player's state machine and its DVR (rewind while live) arithmetic, pure so it can be tested without a
 * browser. `Player.svelte` holds the state in runes and feeds it the media element's and hls.js's events.
 *
 * Phases: `idle` (no source) → `loading` (hls.js or the native player started) → `playing` ⇄ `buffering` (the
 * element's `playing` / `waiting` events); `blocked` when the browser refused autoplay (a click starts it again);
 * `retrying` after a fatal error while a restart is scheduled (see {@link restartDelayMs}).
 */

/** What the player shows: see the module comment. */
export type PlayerPhase = 'idle' | 'loading' | 'playing' | 'buffering' | 'blocked' | 'retrying';

/** What happens to the player. */
export type PlayerEvent =
	/** A source (live or DVR playlist) is attached. */
	| { type: 'load' }
	/** The source went away (offline, unmounted). */
	| { type: 'unload' }
	/** The media element fired `playing`. */
	| { type: 'playing' }
	/** The media element fired `waiting` (its buffer ran dry). */
	| { type: 'waiting' }
	/** `play()` was refused with `NotAllowedError` (autoplay policy). */
	| { type: 'autoplay-blocked' }
	/** The viewer clicked the play button. */
	| { type: 'click-to-play' }
	/** A fatal error (network, unrecoverable media, a configuration hls.js refused, no way to play): retry later. */
	| { type: 'fatal' };

/** The phase after `event` in `phase` (an event that does not apply leaves the phase as it is). */
export function nextPhase(phase: PlayerPhase, event: PlayerEvent): PlayerPhase {
	switch (event.type) {
		case 'load':
		case 'click-to-play':
			return 'loading';
		case 'unload':
			return 'idle';
		case 'playing':
			return 'playing';
		case 'waiting':
			return phase === 'playing' ? 'buffering' : phase;
		case 'autoplay-blocked':
			return 'blocked';
		case 'fatal':
			return 'retrying';
	}
}

/** Delay before restart number `restarts` (0-based) after a fatal error, in ms: 1 s, 2 s, 4 s, then 8 s. */
export function restartDelayMs(restarts: number): number {
	return Math.min(8000, 1000 * 2 ** Math.min(restarts, 3));
}

/** What the player draws over the video in a phase (with a source; without one it draws nothing). */
export interface PlayerOverlay {
	/** The spinner (loading, retrying, buffering). */
	spinner: boolean;
	/** The text under the spinner, or null. */
	status: string | null;
	/** The big play button (autoplay refused). */
	playButton: boolean;
	/** The "Click to unmute" button (muted while playing or buffering). */
	unmute: boolean;
	/** The native video controls (playing or buffering). */
	controls: boolean;
}

/** The overlay for `phase` and the element's `muted` state (all off without a source). */
export function playerOverlay(phase: PlayerPhase, muted: boolean, hasSource = true): PlayerOverlay {
	const shown = phase === 'playing' || phase === 'buffering';
	const spinner = hasSource && (phase === 'loading' || phase === 'retrying' || phase === 'buffering');
	return {
		spinner,
		status: spinner && phase !== 'buffering' ? (phase === 'retrying' ? 'Reconnecting to the stream…' : 'Starting the stream…') : null,
		playButton: hasSource && phase === 'blocked',
		unmute: hasSource && muted && shown,
		controls: shown,
	};
}

/** Within this many seconds of the live edge a DVR seek goes back to the live playlist instead of the recording. */
export const LIVE_EDGE_SECONDS = 10;

/** Where a release of the DVR seek bar leads: the live edge, or the recording at `at` seconds from the start. */
export type DvrSeek = { to: 'live' } | { to: 'recording'; at: number } | { to: 'nowhere' };

/**
 * The DVR seek bar released at `seconds` from the broadcast start, `elapsed` seconds into the broadcast: within
 * {@link LIVE_EDGE_SECONDS} of the edge → live; otherwise the recording at `max(0, seconds)`; a non-finite value → nowhere.
 */
export function dvrSeek(seconds: number, elapsed: number): DvrSeek {
	if (!Number.isFinite(seconds)) return { to: 'nowhere' };
	if (seconds >= elapsed - LIVE_EDGE_SECONDS) return { to: 'live' };
	return { to: 'recording', at: Math.max(0, seconds) };
}

/** Seconds behind live while rewinding (`elapsed` − the recording's media time, never negative); 0 when live. */
export function dvrBehindSeconds(rewinding: boolean, elapsed: number, mediaTime: number): number {
	return rewinding ? Math.max(0, elapsed - mediaTime) : 0;
}

/** The seek bar's value: the dragged value while scrubbing, else the playhead (rewinding) or the live edge. */
export function dvrSeekValue(scrub: number | null, rewinding: boolean, elapsed: number, mediaTime: number): number {
	return scrub ?? (rewinding ? Math.min(mediaTime, elapsed) : elapsed);
}

/** Seconds since `startedAt` (ISO-8601) at `nowMs`, never negative; null when `startedAt` is missing or invalid. */
export function elapsedSeconds(startedAt: string | null | undefined, nowMs: number): number | null {
	const start = startedAt ? Date.parse(startedAt) : NaN;
	return Number.isNaN(start) ? null : Math.max(0, (nowMs - start) / 1000);
}
