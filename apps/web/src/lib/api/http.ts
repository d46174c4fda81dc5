/**
 * The fetch helper of the web's API clients: one JSON request to command-api, query-api or the realtime edge's HTTP
 * side, and {@link ApiError} for every failure (an HTTP error answer, a network failure, a reply that does not match
 * its contract schema). Error bodies are `{ statusCode, error, message, code?, reason? }` (docs/contracts.md).
 */
import type { ModerationRefusal } from '@eventcast/contracts';
import { realtimeHttpBase, serviceUrls } from '../config.ts';

/** An HTTP error answer (`{ statusCode, error, message }`) or a network failure (status 0). */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		message: string,
		/** All messages when the API returned a list (validation errors). */
		readonly details: string[] = [message],
		/** Machine-readable code when the API sent one (chat: `slow_mode`, `forbidden`, …). */
		readonly code: string | null = null,
		/** Why a moderation command was refused (`code` `forbidden`; the sentence is the message). */
		readonly reason: ModerationRefusal | null = null,
	) {
		super(message);
		this.name = 'ApiError';
	}
	get isNetwork(): boolean {
		return this.status === 0;
	}
}

/** Which service a request goes to. */
export type Base = 'command' | 'query' | 'realtime';

export interface RequestOptions {
	method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
	/** Sent as JSON. */
	body?: unknown;
	/** The access token (or an API token), sent as `Authorization: Bearer`. */
	token?: string | null;
	signal?: AbortSignal;
	/** Send and accept cookies cross-origin (`credentials: 'include'`): the session routes' refresh cookie. */
	withCookies?: boolean;
}

/** What the user is told when a service cannot be reached. */
export function unreachable(base: Base): ApiError {
	const name = base === 'command' ? 'account' : base === 'query' ? 'channel' : 'live';
	return new ApiError(0, `Can't reach the ${name} service. Check your connection and try again.`);
}

/** Absolute base URL of a service. */
export function baseUrl(base: Base): string {
	const urls = serviceUrls();
	return base === 'command' ? urls.commandApi : base === 'query' ? urls.queryApi : realtimeHttpBase();
}

/**
 * One JSON request. The reply is returned as `T` unchecked (use {@link parsed} where the contract has a schema).
 * @throws ApiError on a non-2xx answer or a network failure; an abort rethrows the AbortError.
 */
export async function request<T>(base: Base, path: string, opts: RequestOptions = {}): Promise<T> {
	const url = baseUrl(base) + path;
	const headers: Record<string, string> = { accept: 'application/json' };
	if (opts.body !== undefined) headers['content-type'] = 'application/json';
	if (opts.token) headers.authorization = `Bearer ${opts.token}`;

	let res: Response;
	try {
		res = await fetch(url, {
			method: opts.method ?? 'GET',
			headers,
			body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
			signal: opts.signal,
			cache: 'no-store',
			...(opts.withCookies ? { credentials: 'include' as const } : {}),
		});
	} catch (err) {
		if (err instanceof DOMException && err.name === 'AbortError') throw err;
		throw unreachable(base);
	}

	const text = await res.text();
	let payload: unknown = null;
	if (text) {
		try {
			payload = JSON.parse(text);
		} catch {
			payload = null;
		}
	}
	if (!res.ok) throw toApiError(res.status, payload);
	return payload as T;
}

/** The ApiError of an error answer: its messages, `code` (also a bare chat code sent as `message`) and `reason`. */
export function toApiError(status: number, payload: unknown): ApiError {
	let messages: string[] = [];
	if (payload && typeof payload === 'object' && 'message' in payload) {
		const m = (payload as { message: unknown }).message;
		if (typeof m === 'string') messages = [m];
		else if (Array.isArray(m)) messages = m.filter((x): x is string => typeof x === 'string');
	}
	if (messages.length === 0) messages = [defaultMessage(status)];
	let code: string | null = null;
	if (payload && typeof payload === 'object' && 'code' in payload && typeof (payload as { code: unknown }).code === 'string') {
		code = (payload as { code: string }).code;
	} else if (messages.length === 1 && /^[a-z_]+$/.test(messages[0] ?? '')) {
		// docs/chat.md: chat refusals carry the code in `message` too.
		code = messages[0] ?? null;
	}
	const reason = payload && typeof payload === 'object' && 'reason' in payload && typeof (payload as { reason: unknown }).reason === 'string' ? ((payload as { reason: string }).reason as ModerationRefusal) : null;
	return new ApiError(status, messages.join(' '), messages, code, reason);
}

function defaultMessage(status: number): string {
	if (status === 400) return 'The request was not valid.';
	if (status === 401) return 'Please log in again.';
	if (status === 403) return 'You are not allowed to do that.';
	if (status === 404) return 'Not found.';
	if (status === 409) return 'That conflicts with existing data.';
	if (status === 429) return 'Too many attempts. Wait a moment and try again.';
	if (status >= 500) return 'The server had a problem. Try again in a moment.';
	return `Request failed (HTTP ${status}).`;
}

/** A reply that does not match its contract schema: the same ApiError as a server failure (status 502). */
export function parsed<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, payload: unknown, what: string): T {
	const r = schema.safeParse(payload);
	if (!r.success) throw new ApiError(502, `The server sent an unexpected answer for ${what}.`, undefined, 'unexpected_answer');
	return r.data;
}

/** `/channels/<username>` (lower-cased, encoded). */
export const ch = (username: string) => `/channels/${encodeURIComponent(username.toLowerCase())}`;
/** A username as a path segment (lower-cased, encoded). */
export const u = (name: string) => encodeURIComponent(name.toLowerCase());

/** `?k=v&…` of the parameters that are set (empty string when none). */
export const pageQuery = (params: Record<string, string | number | null | undefined>): string => {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
	const s = q.toString();
	return s ? `?${s}` : '';
};
