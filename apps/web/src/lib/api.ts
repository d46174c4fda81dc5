/**
 * Typed client for the command-api and query-api HTTP contracts (docs/contracts.md).
 * Every call throws ApiError on a non-2xx answer or a network failure.
 */
import { serviceUrls } from './config.ts';

export interface Account {
	id: string;
	username: string;
}
export interface AuthResult {
	token: string;
	account: Account;
}
export interface Me {
	id: string;
	username: string;
	title: string | null;
	category: string | null;
}
export interface StreamKeyInfo {
	streamKey: string;
	rtmpUrl: string;
	issuedAt: string;
}
export interface ChannelInfo {
	title: string | null;
	category: string | null;
}
export interface MediaInfo {
	videoCodec: string | null;
	audioCodec: string | null;
	width: number | null;
	height: number | null;
	frameRate: number | null;
	videoBitrateKbps: number | null;
	audioSampleRate: number | null;
	audioChannels: number | null;
}
export interface BroadcastSummary {
	id: string;
	startedAt: string;
	media: MediaInfo | null;
}
export interface ChannelView {
	id: string;
	username: string;
	title: string | null;
	category: string | null;
	live: boolean;
	broadcast: BroadcastSummary | null;
	playbackUrl: string | null;
}
export interface BroadcastView {
	id: string;
	channelId: string;
	startedAt: string;
	endedAt: string | null;
	endReason: string | null;
	media: MediaInfo | null;
}

/** An HTTP error answer (`{ statusCode, error, message }`) or a network failure (status 0). */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		message: string,
		/** All messages when the API returned a list (validation errors). */
		readonly details: string[] = [message],
	) {
		super(message);
		this.name = 'ApiError';
	}
	get isNetwork(): boolean {
		return this.status === 0;
	}
}

type Base = 'command' | 'query';

interface RequestOptions {
	method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
	body?: unknown;
	token?: string | null;
	signal?: AbortSignal;
}

async function request<T>(base: Base, path: string, opts: RequestOptions = {}): Promise<T> {
	const urls = serviceUrls();
	const url = (base === 'command' ? urls.commandApi : urls.queryApi) + path;
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
		});
	} catch (err) {
		if (err instanceof DOMException && err.name === 'AbortError') throw err;
		throw new ApiError(0, `Can't reach the ${base === 'command' ? 'account' : 'channel'} service. Check your connection and try again.`);
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

function toApiError(status: number, payload: unknown): ApiError {
	let messages: string[] = [];
	if (payload && typeof payload === 'object' && 'message' in payload) {
		const m = (payload as { message: unknown }).message;
		if (typeof m === 'string') messages = [m];
		else if (Array.isArray(m)) messages = m.filter((x): x is string => typeof x === 'string');
	}
	if (messages.length === 0) messages = [defaultMessage(status)];
	return new ApiError(status, messages.join(' '), messages);
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

// ---- command-api -------------------------------------------------------------------------

export const register = (username: string, password: string) =>
	request<AuthResult>('command', '/auth/register', { method: 'POST', body: { username, password } });

export const login = (username: string, password: string) =>
	request<AuthResult>('command', '/auth/login', { method: 'POST', body: { username, password } });

export const getMe = (token: string, signal?: AbortSignal) => request<Me>('command', '/me', { token, signal });

export const getStreamKey = (token: string, signal?: AbortSignal) =>
	request<StreamKeyInfo>('command', '/me/stream-key', { token, signal });

export const rotateStreamKey = (token: string) =>
	request<StreamKeyInfo>('command', '/me/stream-key/rotate', { method: 'POST', token });

export const updateChannel = (token: string, info: { title?: string; category?: string }) =>
	request<ChannelInfo>('command', '/me/channel', { method: 'PUT', token, body: info });

// ---- query-api ---------------------------------------------------------------------------

export const listLiveChannels = async (signal?: AbortSignal) =>
	(await request<{ channels: ChannelView[] }>('query', '/channels/live', { signal })).channels;

export const listChannels = async (signal?: AbortSignal) =>
	(await request<{ channels: ChannelView[] }>('query', '/channels', { signal })).channels;

export const getChannel = (username: string, signal?: AbortSignal) =>
	request<ChannelView>('query', `/channels/${encodeURIComponent(username.toLowerCase())}`, { signal });

export const getBroadcast = (id: string, signal?: AbortSignal) =>
	request<BroadcastView>('query', `/broadcasts/${encodeURIComponent(id)}`, { signal });
