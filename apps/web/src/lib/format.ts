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

/**
 * A media time or duration as a clock, like a player's: `3723` s → `1:02:03`, `62` → `1:02`, `5.9` → `0:05` (whole
 * seconds, rounded down; negative and non-finite values read as 0).
 */
export function mediaClock(seconds: number): string {
	const s = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
	const h = Math.floor(s / 3600);
	const m = Math.floor((s % 3600) / 60);
	const r = String(s % 60).padStart(2, '0');
	return h ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** Bytes for people: `1.5 GB`, `320 MB`, `12 kB` (decimal units, like disk vendors and `df -H`). */
export function byteSize(bytes: number): string {
	if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, Math.round(bytes || 0))} B`;
	const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
	let v = bytes;
	let i = -1;
	while (v >= 1000 && i < units.length - 1) {
		v /= 1000;
		i++;
	}
	return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** Local date of a timestamp, e.g. "Dec 7, 2026". */
export function shortDate(iso: string | null | undefined): string {
	if (!iso) return '';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return '';
	return d.toLocaleDateString([], { dateStyle: 'medium' });
}
