/**
 * Chat replay buffer (issue 11 item 3): the messages of a VOD or a clip are read page by page from query-api
 * (`GET /videos/:id/chat?from=` or `GET /clips/:id/chat?from=`, {@link getReplayChat}) just ahead of the playhead,
 * never the whole chat: a page is fetched when fewer than one page of messages is waiting ahead of the playhead and
 * the last one read is less than {@link REPLAY_AHEAD_SECONDS} ahead, so one to two pages are buffered. A seek
 * {@link ChatReplay.reset}s the buffer and reads from {@link REPLAY_BACKFILL_SECONDS} before the new position, so the
 * chat shows what was said just before. Messages already shown are kept up to {@link REPLAY_KEEP}.
 */
import { CHAT_REPLAY_PAGE_DEFAULT, type ChatReplayMessage } from '@eventcast/contracts';
import { ApiError, getReplayChat } from './api.ts';

/** Seconds of chat before a seek point that are shown after the seek. */
export const REPLAY_BACKFILL_SECONDS = 30;
/** A new page is read only while the buffer reaches less than this many seconds ahead of the playhead. */
export const REPLAY_AHEAD_SECONDS = 60;
/** Messages per page (the contract's default). */
export const REPLAY_PAGE = CHAT_REPLAY_PAGE_DEFAULT;
/** Messages at or before the playhead kept in memory (the oldest are dropped beyond). */
export const REPLAY_KEEP = 300;
/**
 * A playhead move larger than this (seconds, forward) between two ticks, or any move back by more than a second, is a
 * seek even when the player did not report one (a `?t=` start, hls.js's start position): the buffer restarts there.
 */
export const REPLAY_JUMP_SECONDS = 5;
/** Seconds before a failed page read is tried again. */
export const REPLAY_RETRY_MS = 5000;

/** Whether a replayed message is on screen at media time `t` (seconds): shown from its offset until it was hidden live. */
export function visibleAt(m: Pick<ChatReplayMessage, 'offsetSeconds' | 'hiddenAtOffsetSeconds'>, t: number): boolean {
	return m.offsetSeconds <= t && (m.hiddenAtOffsetSeconds === null || t < m.hiddenAtOffsetSeconds);
}

/** The buffered chat of one VOD (`kind: 'video'`) or clip (`'clip'`); drive it with {@link tick} and {@link reset}. */
export class ChatReplay {
	/** Buffered messages in media order. */
	items = $state.raw<ChatReplayMessage[]>([]);
	/** The last page read failed (the message); retried after {@link REPLAY_RETRY_MS}. */
	error = $state<string | null>(null);
	loading = $state(false);
	/** The server has no more messages after the buffer. */
	done = $state(false);
	/** Page reads so far (tests, support). */
	pagesRead = $state(0);

	#cursor: string | null = null;
	#from = 0;
	#gen = 0;
	#failedAt = 0;
	#abort: AbortController | null = null;
	/** The playhead at the last {@link tick} or {@link reset}. */
	#lastT = 0;

	constructor(
		readonly kind: 'video' | 'clip',
		readonly id: string,
	) {}

	/** Drops the buffer and reads again from `at - REPLAY_BACKFILL_SECONDS` (a seek, or the start). */
	reset(at: number): void {
		const from = Math.max(0, at - REPLAY_BACKFILL_SECONDS);
		// The same restart reported twice (the player's seek event and the playhead jump): keep the read in flight.
		if (from === this.#from && Math.abs(at - this.#lastT) < 1 && (this.loading || this.items.length > 0) && !this.error) {
			this.#lastT = at;
			return;
		}
		this.#gen++;
		this.#abort?.abort();
		this.#abort = null;
		this.items = [];
		this.#cursor = null;
		this.#from = from;
		this.done = false;
		this.error = null;
		this.loading = false;
		this.#failedAt = 0;
		this.#lastT = at;
		this.tick(at);
	}

	/** The playhead is at `t` seconds: read the next page if the buffer runs short, drop old shown messages. */
	tick(t: number): void {
		if (t > this.#lastT + REPLAY_JUMP_SECONDS || t < this.#lastT - 1) {
			this.reset(t);
			return;
		}
		this.#lastT = t;
		const items = this.items;
		let shown = 0;
		while (shown < items.length && (items[shown]?.offsetSeconds ?? Infinity) <= t) shown++;
		if (shown > REPLAY_KEEP) this.items = items.slice(shown - REPLAY_KEEP);
		if (this.loading || this.done) return;
		if (this.error && performance.now() - this.#failedAt < REPLAY_RETRY_MS) return;
		const pending = items.length - shown;
		const last = items.at(-1);
		const started = this.#cursor !== null || items.length > 0;
		if (started && (pending >= REPLAY_PAGE || (last !== undefined && last.offsetSeconds >= t + REPLAY_AHEAD_SECONDS))) return;
		void this.#read();
	}

	async #read(): Promise<void> {
		const gen = this.#gen;
		const ctl = new AbortController();
		this.#abort = ctl;
		this.loading = true;
		try {
			const page = await getReplayChat(this.kind, this.id, { from: this.#from, cursor: this.#cursor, limit: REPLAY_PAGE, signal: ctl.signal });
			if (gen !== this.#gen) return;
			const known = new Set(this.items.map((m) => m.id));
			const fresh = page.items.filter((m) => m.offsetSeconds >= this.#from && !known.has(m.id));
			this.items = [...this.items, ...fresh];
			this.#cursor = page.nextCursor;
			this.done = page.nextCursor === null || page.items.length === 0;
			this.error = null;
			this.pagesRead++;
		} catch (err) {
			if (gen !== this.#gen || (err instanceof DOMException && err.name === 'AbortError')) return;
			this.error = err instanceof ApiError ? err.message : 'Could not load the chat replay.';
			this.#failedAt = performance.now();
		} finally {
			if (gen === this.#gen) {
				this.loading = false;
				this.#abort = null;
			}
		}
		// A page that ended behind the playhead (dense chat, fast seek): read on.
		if (gen === this.#gen && !this.error) this.tick(this.#lastT);
	}

	/** Stops any read in flight. */
	dispose(): void {
		this.#gen++;
		this.#abort?.abort();
	}
}
