import { USERNAME_PATTERN } from '@eventcast/contracts';

/** "3 min", "1 h 12 min" … for a live-since timestamp. */
export function liveDuration(startedAt: string | null | undefined, now = Date.now()): string {
	if (!startedAt) return '';
	const start = Date.parse(startedAt);
	if (Number.isNaN(start)) return '';
	const s = Math.max(0, Math.floor((now - start) / 1000));
	if (s < 60) return 'just now';
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min`;
	const h = Math.floor(m / 60);
	const rm = m % 60;
	if (h < 24) return rm ? `${h} h ${rm} min` : `${h} h`;
	const d = Math.floor(h / 24);
	return `${d} d ${h % 24} h`;
}

/** Local clock time of a timestamp, e.g. "14:05". */
export function clockTime(iso: string | null | undefined): string {
	if (!iso) return '';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return '';
	return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Full local date/time for tooltips. */
export function fullDate(iso: string | null | undefined): string {
	if (!iso) return '';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return '';
	return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** A reactive-friendly "now" that ticks every `ms`. Use inside $effect. */
export function ticker(ms: number, cb: (now: number) => void): () => void {
	const id = setInterval(() => cb(Date.now()), ms);
	return () => clearInterval(id);
}

export function resolutionLabel(width: number | null | undefined, height: number | null | undefined, fps: number | null | undefined): string {
	if (!height) return '';
	const f = fps ? Math.round(fps) : null;
	return `${height}p${f ?? ''}`;
}

/** Deterministic accent hue for a username (avatar / thumbnail colour). */
export function hueFor(name: string): number {
	let h = 0;
	for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
	return h % 360;
}

/** The username rule of sign-up (@eventcast/contracts `USERNAME_PATTERN`). */
export const USERNAME_RE = USERNAME_PATTERN;

/** An API reason ("username \"admin\" is reserved by the platform") as a sentence: capitalised, with a full stop. */
export function sentence(text: string): string {
	const t = text.trim();
	if (!t) return t;
	return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}
