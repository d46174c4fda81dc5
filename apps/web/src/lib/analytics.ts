/** Formatting and ranges for the analytics pages. */
import { ApiError } from './api.ts';

/** `YYYY-MM-DD` of a time, in UTC (the analytics days are UTC days). */
export function utcDay(t: number): string {
	return new Date(t).toISOString().slice(0, 10);
}

/** The default range: the last 30 UTC days up to today. */
export function defaultRange(now = Date.now()): { from: string; to: string } {
	return { from: utcDay(now - 29 * 86_400_000), to: utcDay(now) };
}

/** "1 h 05 min", "12 min", "40 s". */
export function durationLabel(seconds: number): string {
	if (seconds < 60) return `${seconds} s`;
	const m = Math.floor(seconds / 60);
	if (m < 60) return `${m} min`;
	return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Short local date and time of an ISO time. */
export function shortDateTime(iso: string): string {
	return new Date(iso).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Local clock time of an ISO time. */
export function clock(iso: string): string {
	return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Words for an analytics error. */
export function analyticsError(err: unknown, what: string): string {
	if (err instanceof ApiError) {
		if (err.status === 403) return `You can't see ${what}: only the channel's owner or a platform admin can.`;
		if (err.status === 404) return `${what[0]?.toUpperCase() ?? ''}${what.slice(1)} could not be found.`;
		if (err.status === 400) return `That request was not valid: ${err.message}`;
		return err.message;
	}
	return `Could not load ${what}.`;
}
