/**
 * Typed client for the command-api and query-api HTTP contracts (docs/contracts.md).
 * Every call throws ApiError on a non-2xx answer or a network failure.
 */
import {
	activityStripSchema,
	chatReplayPageSchema,
	clipListSchema,
	clipViewSchema,
	createClipReplySchema,
	deleteClipReplySchema,
	deleteRecordingReplySchema,
	recordingSettingReplySchema,
	createClipRequestSchema,
	LATENCY_MODE_PATH,
	MIN_POSITION_PARAM,
	POSITION_NOT_REACHED_CODE,
	type AdminBroadcasts,
	type BroadcastHealthSeries,
	type ChannelHealthResponse,
	type ChannelLatency,
	type ChannelList,
	type ChannelView,
	type LatencyMode,
	type MediaInfo,
	type ModerationLogEntry,
	type ModerationRefusal,
	type RestreamTargetAdd,
	type RestreamTargetList,
	type RestreamTargetView,
	type StreamKeyReply,
	recordingSettingSchema,
	replayModerationListSchema,
	storageUsageSchema,
	vodDetailSchema,
	vodListSchema,
	type CreateClipReply,
	type CreateClipRequest,
	type RecordingSetting,
} from '@eventcast/contracts';
import { hlsBase, realtimeHttpBase, serviceUrls } from './config.ts';

export type { BroadcastSummary, ChannelView, ChatSettingChange, MediaInfo, ModerationLogEntry, ModerationRefusal, SettingsChangedDetails } from '@eventcast/contracts';

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
	/** Listed in EVENTCAST_ADMINS: may use the admin pages (absent from older command-api builds). */
	admin?: boolean;
}
/** The owner's stream key and ingest URLs (the contract's `streamKeyReplySchema`). */
export type StreamKeyInfo = StreamKeyReply;
export interface ChannelInfo {
	title: string | null;
	category: string | null;
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

type Base = 'command' | 'query' | 'realtime';

interface RequestOptions {
	method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
	body?: unknown;
	token?: string | null;
	signal?: AbortSignal;
}

async function request<T>(base: Base, path: string, opts: RequestOptions = {}): Promise<T> {
	const urls = serviceUrls();
	const url = (base === 'command' ? urls.commandApi : base === 'query' ? urls.queryApi : realtimeHttpBase()) + path;
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
		throw new ApiError(0, `Can't reach the ${base === 'command' ? 'account' : base === 'query' ? 'channel' : 'live'} service. Check your connection and try again.`);
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

/** Sets the caller's channel latency mode (`PUT /me/channel/latency-mode`, `SetLatencyModeRequest`). */
export const setLatencyMode = (token: string, latencyMode: LatencyMode) =>
	request<ChannelLatency>('command', LATENCY_MODE_PATH, { method: 'PUT', token, body: { latencyMode } });

export const listLiveChannels = async (signal?: AbortSignal) =>
	(await request<ChannelList>('query', '/channels/live', { signal })).channels;

export const listChannels = async (signal?: AbortSignal) =>
	(await request<ChannelList>('query', '/channels', { signal })).channels;

/**
 * One channel. `minPosition` (a pushed event's `globalPosition`): the answer reflects at least that event
 * (read-your-writes, libs/contracts/src/read-your-writes.ts); query-api waits for it, bounded, else answers 503
 * with code `position_not_reached` (an ApiError).
 */
export const getChannel = (username: string, signal?: AbortSignal, minPosition?: string | null) =>
	request<ChannelView>(
		'query',
		`/channels/${encodeURIComponent(username.toLowerCase())}${minPosition ? `?${MIN_POSITION_PARAM}=${encodeURIComponent(minPosition)}` : ''}`,
		{ signal },
	);

export const getBroadcast = (id: string, signal?: AbortSignal) =>
	request<BroadcastView>('query', `/broadcasts/${encodeURIComponent(id)}`, { signal });

// ---- chat and moderation (docs/chat.md) ---------------------------------------------------

export type ChatRole = 'owner' | 'moderator' | 'viewer';

/** libs/events/src/chat.ts `ChatSettings`. */
export interface ChatSettings {
	enabled: boolean;
	slowModeSeconds: number;
	followersOnly: boolean;
	messageDelaySeconds: 0 | 2 | 4 | 6;
	emoteOnly: boolean;
	rateLimitMessages: number;
	rateLimitWindowSeconds: number;
}

export const DEFAULT_CHAT_SETTINGS: ChatSettings = {
	enabled: true,
	slowModeSeconds: 0,
	followersOnly: false,
	messageDelaySeconds: 0,
	emoteOnly: false,
	rateLimitMessages: 5,
	rateLimitWindowSeconds: 10,
};

/**
 * Same as the chat room aggregate: 1–500 user-perceived characters (graphemes) after trimming, and the text rule
 * (no control characters, bidi overrides or unpaired surrogates). From the contract module, never a copy.
 */
export { CHAT_MESSAGE_MAX_CODE_UNITS, CHAT_MESSAGE_MAX_LENGTH, chatTextStatus } from '@eventcast/contracts';
/** Emote images: PNG, GIF or WebP, at most 64 KiB decoded. */
export const EMOTE_MAX_BYTES = 64 * 1024;
export const EMOTE_CODE_RE = /^[A-Za-z0-9_]{2,32}$/;

export interface ChatMessageView {
	id: string;
	senderId: string;
	senderName: string;
	senderRole: ChatRole;
	text: string;
	sentAt: string;
	visibleAt: string;
	globalPosition: string;
	/** Sent by the channel's bot with an API token (sender = the owner): show `bot.name` with a bot badge. */
	bot?: { name: string } | null;
}
export interface ChatHistory {
	messages: ChatMessageView[];
	nextBefore: string | null;
	/** Global position the chat read model had reached when read (see the realtime `subscribed` frame). */
	position?: string;
}
export interface ChatSettingsView {
	settings: ChatSettings;
	moderators: { id: string; username: string }[];
}
export interface ChatRoleView {
	role: ChatRole;
	banned: boolean;
	timedOutUntil: string | null;
	follows: boolean;
}
export interface BlockedTerms {
	terms: string[];
	action: 'mask' | 'refuse';
}
export interface ModerationLog {
	entries: ModerationLogEntry[];
	nextBefore: string | null;
}
export interface Emote {
	code: string;
	url: string;
}

const ch = (username: string) => `/channels/${encodeURIComponent(username.toLowerCase())}`;
const u = (name: string) => encodeURIComponent(name.toLowerCase());

/** Absolute URL for an emote image (the query-api may answer with a path). */
export function emoteUrl(url: string): string {
	try {
		return new URL(url, serviceUrls().queryApi + '/').toString();
	} catch {
		return url;
	}
}

export const getChatHistory = (username: string, opts: { before?: string | null; limit?: number; signal?: AbortSignal } = {}) => {
	const q = new URLSearchParams();
	if (opts.before) q.set('before', opts.before);
	q.set('limit', String(opts.limit ?? 50));
	return request<ChatHistory>('query', `${ch(username)}/chat/messages?${q}`, { signal: opts.signal });
};

export const getChatSettings = (username: string, signal?: AbortSignal) =>
	request<ChatSettingsView>('query', `${ch(username)}/chat/settings`, { signal });

export const getChatRole = (username: string, user: string, token?: string | null, signal?: AbortSignal) =>
	request<ChatRoleView>('query', `${ch(username)}/chat/roles/${u(user)}`, { token, signal });

export const getBlockedTerms = (token: string, username: string, signal?: AbortSignal) =>
	request<BlockedTerms>('query', `${ch(username)}/chat/blocked-terms`, { token, signal });

export const getModerationLog = (token: string, username: string, opts: { before?: string | null; limit?: number; signal?: AbortSignal } = {}) => {
	const q = new URLSearchParams();
	if (opts.before) q.set('before', opts.before);
	q.set('limit', String(opts.limit ?? 50));
	return request<ModerationLog>('query', `${ch(username)}/chat/moderation-log?${q}`, { token, signal: opts.signal });
};

export const listEmotes = async (username: string, signal?: AbortSignal) =>
	(await request<{ emotes: Emote[] }>('query', `${ch(username)}/emotes`, { signal })).emotes ?? [];

export const getFollowerCount = async (username: string, signal?: AbortSignal) =>
	(await request<{ count: number }>('query', `${ch(username)}/followers`, { signal })).count;

export const deleteChatMessage = (token: string, username: string, messageId: string, reason?: string) =>
	request<unknown>('command', `${ch(username)}/chat/messages/${encodeURIComponent(messageId)}`, {
		method: 'DELETE',
		token,
		body: reason ? { reason } : undefined,
	});

export const clearChat = (token: string, username: string) =>
	request<unknown>('command', `${ch(username)}/chat/clear`, { method: 'POST', token });

export const timeoutUser = (token: string, username: string, user: string, durationSeconds: number, reason?: string) =>
	request<unknown>('command', `${ch(username)}/chat/timeouts`, {
		method: 'POST',
		token,
		body: { username: user.toLowerCase(), durationSeconds, ...(reason ? { reason } : {}) },
	});

export const banUser = (token: string, username: string, user: string, reason?: string) =>
	request<unknown>('command', `${ch(username)}/chat/bans`, {
		method: 'POST',
		token,
		body: { username: user.toLowerCase(), ...(reason ? { reason } : {}) },
	});

export const unbanUser = (token: string, username: string, user: string) =>
	request<unknown>('command', `${ch(username)}/chat/bans/${u(user)}`, { method: 'DELETE', token });

export const addModerator = (token: string, username: string, user: string) =>
	request<unknown>('command', `${ch(username)}/chat/moderators/${u(user)}`, { method: 'PUT', token });

export const removeModerator = (token: string, username: string, user: string) =>
	request<unknown>('command', `${ch(username)}/chat/moderators/${u(user)}`, { method: 'DELETE', token });

export const updateChatSettings = (token: string, username: string, settings: Partial<ChatSettings>) =>
	request<unknown>('command', `${ch(username)}/chat/settings`, { method: 'PUT', token, body: settings });

export const updateBlockedTerms = (token: string, username: string, terms: BlockedTerms) =>
	request<unknown>('command', `${ch(username)}/chat/blocked-terms`, { method: 'PUT', token, body: terms });

export const addEmote = (token: string, username: string, emote: { code: string; contentType: string; imageBase64: string }) =>
	request<unknown>('command', `${ch(username)}/emotes`, { method: 'POST', token, body: emote });

export const removeEmote = (token: string, username: string, code: string) =>
	request<unknown>('command', `${ch(username)}/emotes/${encodeURIComponent(code)}`, { method: 'DELETE', token });

export const follow = (token: string, username: string) =>
	request<unknown>('command', `${ch(username)}/follow`, { method: 'PUT', token });

export const unfollow = (token: string, username: string) =>
	request<unknown>('command', `${ch(username)}/follow`, { method: 'DELETE', token });

// ---- realtime HTTP -----------------------------------------------------------------------

export const getViewerCount = async (username: string, signal?: AbortSignal) =>
	(await request<{ channel: string; viewers: number }>('realtime', `${ch(username)}/viewers`, { signal })).viewers;

// ---- analytics (docs/contracts.md "Analytics"; owner or admin, Bearer) --------------------

export interface BroadcastAnalytics {
	broadcastId: string;
	channelId: string;
	username: string;
	startedAt: string;
	endedAt: string | null;
	durationSeconds: number;
	live: boolean;
	peakViewers: number;
	averageViewers: number;
	uniqueViewers: number;
	messages: number;
	messagesPerMinute: number;
	newFollowers: number;
	samples: number;
}
export interface AnalyticsTotals {
	broadcasts: number;
	minutesLive: number;
	peakViewers: number;
	messages: number;
	newFollowers: number;
}
export interface DayAnalytics {
	day: string;
	broadcasts: number;
	minutesLive: number;
	peakViewers: number;
	uniqueViewers: number;
	messages: number;
	newFollowers: number;
}
export interface ChannelAnalytics {
	channel: Account;
	totals: AnalyticsTotals;
	broadcasts: BroadcastAnalytics[];
}
export interface DailySeries {
	channel: Account;
	from: string;
	to: string;
	days: DayAnalytics[];
}
export interface BroadcastDetail {
	broadcast: BroadcastAnalytics;
	viewers: { at: string; viewers: number; chatters: number }[];
	messagesPerMinute: { minute: string; messages: number }[];
	topChatters: { userId: string; username: string; messages: number }[];
}
export interface AdminSummary {
	from: string;
	to: string;
	totals: AnalyticsTotals;
	days: DayAnalytics[];
	channels: (AnalyticsTotals & { channelId: string; username: string })[];
}

const range = (from: string, to: string) => new URLSearchParams({ from, to }).toString();

export const getChannelAnalytics = (token: string, username: string, signal?: AbortSignal) =>
	request<ChannelAnalytics>('query', `/analytics${ch(username)}?limit=100`, { token, signal });

export const getDailyAnalytics = (token: string, username: string, from: string, to: string, signal?: AbortSignal) =>
	request<DailySeries>('query', `/analytics${ch(username)}/daily?${range(from, to)}`, { token, signal });

export const getBroadcastAnalytics = (token: string, id: string, signal?: AbortSignal) =>
	request<BroadcastDetail>('query', `/analytics/broadcasts/${encodeURIComponent(id)}`, { token, signal });

export const getAnalyticsSummary = (token: string, from: string, to: string, signal?: AbortSignal) =>
	request<AdminSummary>('query', `/analytics/summary?${range(from, to)}`, { token, signal });

// ---- stream health (docs/contracts.md "Stream health"; owner or admin, Bearer) ------------

export type { BroadcastHealthSeries, ChannelHealthResponse, HealthWarning, LastPublishRefusal, StreamHealthMeasures } from '@eventcast/contracts';

export const getChannelHealth = (token: string, username: string, signal?: AbortSignal) =>
	request<ChannelHealthResponse>('query', `/analytics${ch(username)}/health`, { token, signal });

export const getBroadcastHealth = (token: string, id: string, signal?: AbortSignal) =>
	request<BroadcastHealthSeries>('query', `/analytics/broadcasts/${encodeURIComponent(id)}/health`, { token, signal });

/** Query-api paths of the CSV exports. */
export const analyticsCsvPath = {
	broadcasts: (username: string) => `/analytics${ch(username)}/broadcasts.csv`,
	daily: (username: string, from: string, to: string) => `/analytics${ch(username)}/daily.csv?${range(from, to)}`,
};

/**
 * Downloads a CSV export (the API needs the Bearer header, so a plain link cannot do it): fetches it and saves it
 * under the server's file name. @throws ApiError like the other calls.
 */
export async function downloadCsv(token: string, path: string): Promise<void> {
	let res: Response;
	try {
		res = await fetch(serviceUrls().queryApi + path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
	} catch {
		throw new ApiError(0, "Can't reach the channel service. Check your connection and try again.");
	}
	if (!res.ok) {
		let payload: unknown = null;
		try {
			payload = await res.json();
		} catch {
			payload = null;
		}
		throw toApiError(res.status, payload);
	}
	const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'export.csv';
	const url = URL.createObjectURL(await res.blob());
	const a = document.createElement('a');
	a.href = url;
	a.download = name;
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- integrations: API tokens and webhooks (docs/contracts.md "Integrations") ---------------

export const API_TOKEN_SCOPES = ['chat:send', 'chat:read', 'channel:write'] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];
export const WEBHOOK_EVENT_TYPES = [
	'ChatMessageSent',
	'ChatMessageDeleted',
	'ChatUserBanned',
	'ChatUserTimedOut',
	'BroadcastStarted',
	'BroadcastEnded',
	'ChannelInfoUpdated',
	'ChannelFollowed',
	'ChannelUnfollowed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface ApiToken {
	id: string;
	name: string;
	scopes: ApiTokenScope[];
	botName: string;
	prefix: string;
	revokedAt: string | null;
}
export interface Webhook {
	id: string;
	url: string;
	eventTypes: WebhookEventType[];
	enabled: boolean;
}
export interface DeliveryAttempt {
	attempt: number;
	startedAt: string;
	statusCode: number | null;
	latencyMs: number;
	error: string | null;
	succeeded: boolean;
}
export interface WebhookDelivery {
	id: string;
	eventId: string;
	eventType: string;
	globalPosition: string;
	status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
	createdAt: string;
	completedAt: string | null;
	attempts: DeliveryAttempt[];
}

export const listApiTokens = (token: string) => request<{ tokens: ApiToken[] }>('command', '/me/integrations/tokens', { token });
/** Creates a token; the reply's `token` is shown once. */
export const createApiToken = (token: string, body: { name: string; scopes: ApiTokenScope[]; botName?: string }) =>
	request<ApiToken & { token: string }>('command', '/me/integrations/tokens', { method: 'POST', token, body });
export const revokeApiToken = (token: string, id: string) =>
	request<ApiToken>('command', `/me/integrations/tokens/${encodeURIComponent(id)}`, { method: 'DELETE', token });
export const listWebhooks = (token: string) => request<{ webhooks: Webhook[] }>('command', '/me/integrations/webhooks', { token });
/** Registers a webhook; the reply's `secret` is shown once. */
export const createWebhook = (token: string, body: { url: string; eventTypes: WebhookEventType[] }) =>
	request<Webhook & { secret: string }>('command', '/me/integrations/webhooks', { method: 'POST', token, body });
export const setWebhookEnabled = (token: string, id: string, enabled: boolean) =>
	request<Webhook>('command', `/me/integrations/webhooks/${encodeURIComponent(id)}/${enabled ? 'enable' : 'disable'}`, { method: 'POST', token });
export const deleteWebhook = (token: string, id: string) =>
	request<{ ok: true }>('command', `/me/integrations/webhooks/${encodeURIComponent(id)}`, { method: 'DELETE', token });
export const listWebhookDeliveries = (token: string, id: string, limit = 20) =>
	request<{ deliveries: WebhookDelivery[]; nextBefore: string | null }>('query', `/me/integrations/webhooks/${encodeURIComponent(id)}/deliveries?limit=${limit}`, { token });

// ---- restream / simulcast (docs/contracts.md "Restream"; the owner's JWT) --------------------

/** The caller's restream targets with their last live state (never the keys). */
export const listRestreamTargets = (token: string, signal?: AbortSignal) =>
	request<RestreamTargetList>('command', '/me/restream-targets', { token, signal });
/** Adds a target (enabled); the key is sent once and never shown again. */
export const addRestreamTarget = (token: string, body: RestreamTargetAdd) =>
	request<RestreamTargetView>('command', '/me/restream-targets', { method: 'POST', token, body });
export const setRestreamTargetEnabled = (token: string, id: string, enabled: boolean) =>
	request<RestreamTargetView>('command', `/me/restream-targets/${encodeURIComponent(id)}/${enabled ? 'enable' : 'disable'}`, { method: 'POST', token });
export const removeRestreamTarget = (token: string, id: string) =>
	request<{ ok: true }>('command', `/me/restream-targets/${encodeURIComponent(id)}`, { method: 'DELETE', token });

// ---- admin pages (docs/contracts.md "Admin pages"; platform admins only, Bearer) ------------

export interface ProjectionStatus {
	name: string;
	state: 'running' | 'rebuilding' | 'failed';
	error: string | null;
	checkpoint: string | null;
	head: string;
	lagEvents: string;
	lagSeconds: number;
	rebuild: null | {
		state: 'running' | 'interrupted' | 'failed';
		position: string | null;
		head: string | null;
		percent: number | null;
		eventsPerSecond: number | null;
		startedAt: string | null;
		updatedAt: string | null;
		error: string | null;
	};
}
export interface ProjectionsStatus {
	at: string;
	head: string;
	projections: ProjectionStatus[];
}
export const AUDIT_CATEGORIES = ['moderation', 'account', 'ingest', 'integrations'] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];
export interface AuditEntry {
	id: string;
	globalPosition: string;
	at: string;
	category: AuditCategory;
	action: string;
	channelId: string | null;
	channel: string | null;
	actorId: string | null;
	actor: string | null;
	targetId: string | null;
	target: string | null;
	reason: string | null;
	details: Record<string, unknown>;
}
export interface AuditPage {
	entries: AuditEntry[];
	nextBefore: string | null;
}

export const getProjectionsStatus = (token: string, signal?: AbortSignal) =>
	request<ProjectionsStatus>('query', '/admin/projections', { token, signal });

export const getAuditTrail = (token: string, opts: { before?: string | null; limit?: number; category?: AuditCategory | null; signal?: AbortSignal } = {}) => {
	const q = new URLSearchParams();
	if (opts.before) q.set('before', opts.before);
	if (opts.limit) q.set('limit', String(opts.limit));
	if (opts.category) q.set('category', opts.category);
	const qs = q.toString();
	return request<AuditPage>('query', `/admin/audit${qs ? `?${qs}` : ''}`, { token, signal: opts.signal });
};

/** `GET /admin/broadcasts`: live broadcasts with their ingest health (`AdminBroadcasts` of @eventcast/contracts, ingest-health.ts). */
export const getAdminBroadcasts = (token: string, signal?: AbortSignal) =>
	request<AdminBroadcasts>('query', '/admin/broadcasts', { token, signal });

// ---- recordings, VODs, chat replay and clips (issue 11; @eventcast/contracts vod.ts) ----------

export type {
	ActivityStrip,
	ChatReplayMessage,
	ChatReplayPage,
	ClipList,
	ClipView,
	CreateClipReply,
	CreateClipRequest,
	ReplayModerationAction,
	StorageUsage,
	VodChapter,
	VodDetail,
	VodList,
	VodSummary,
} from '@eventcast/contracts';

/** A reply that does not match its contract schema: the same ApiError as a server failure (status 502). */
function parsed<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, payload: unknown, what: string): T {
	const r = schema.safeParse(payload);
	if (!r.success) throw new ApiError(502, `The server sent an unexpected answer for ${what}.`, undefined, 'unexpected_answer');
	return r.data;
}

/**
 * Absolute URL of a recorded-media address of query-api (`/vod/…`, `/clips/…`): absolute URLs stay as they are; a
 * path is resolved against `reference` (an absolute URL on the HLS origin, e.g. the live `playbackUrl`) when one is
 * given, else against the HLS origin's base ({@link hlsBase}: HLS_PUBLIC_URL, or port 8000 on the page's host).
 */
export function mediaUrl(url: string, reference?: string | null): string {
	try {
		return new URL(url).toString();
	} catch {
		// a path: resolved below
	}
	let base = hlsBase();
	if (reference) {
		try {
			base = new URL(reference).origin;
		} catch {
			// keep the default
		}
	}
	try {
		return new URL(url, base + '/').toString();
	} catch {
		return url;
	}
}

/**
 * Read-your-writes for recordings (libs/contracts read-your-writes.ts): the global position of this tab's last clip or
 * deletion (`position` of the command's reply, when it sends one). Reads of VODs and clips ask query-api for at least
 * that position, so the clip page finds the clip just made and a list no longer shows what was just deleted.
 */
let lastWrite: string | null = null;

/** Keeps `reply.position` (a decimal global position) when it is later than {@link lastWrite}. */
function sawWrite(reply: unknown): void {
	const p = reply && typeof reply === 'object' && 'position' in reply ? reply.position : null;
	if (typeof p !== 'string' || !/^[0-9]{1,19}$/.test(p)) return;
	if (lastWrite === null || BigInt(p) > BigInt(lastWrite)) lastWrite = p;
}

/**
 * GET on query-api for a read after a write: a 503 `position_not_reached` (the read models are still behind) is retried
 * after a second, up to 5 times, then the path is read without the position (stale rather than nothing).
 */
async function readAfterWrite(path: string, signal?: AbortSignal): Promise<unknown> {
	for (let attempt = 0; ; attempt++) {
		try {
			return await request<unknown>('query', path, { signal });
		} catch (err) {
			if (!(err instanceof ApiError) || err.code !== POSITION_NOT_REACHED_CODE || !path.includes(`${MIN_POSITION_PARAM}=`)) throw err;
			if (attempt >= 4) return request<unknown>('query', path.replace(new RegExp(`[?&]${MIN_POSITION_PARAM}=[0-9]+`), '').replace(/^([^?]*)&/, '$1?'), { signal });
			await new Promise((r) => setTimeout(r, 1000));
		}
	}
}

const pageQuery = (params: Record<string, string | number | null | undefined>): string => {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
	const s = q.toString();
	return s ? `?${s}` : '';
};

/** `GET /channels/:username/videos?cursor=&limit=`: the channel's VODs, newest first ({@link vodListSchema}). */
export const listVideos = async (username: string, opts: { cursor?: string | null; limit?: number; signal?: AbortSignal } = {}) =>
	parsed(vodListSchema, await readAfterWrite(`${ch(username)}/videos${pageQuery({ cursor: opts.cursor, limit: opts.limit, [MIN_POSITION_PARAM]: lastWrite })}`, opts.signal), 'the video list');

/** `GET /channels/:username/clips?cursor=&limit=`: the channel's clips, newest first ({@link clipListSchema}). */
export const listClips = async (username: string, opts: { cursor?: string | null; limit?: number; signal?: AbortSignal } = {}) =>
	parsed(clipListSchema, await readAfterWrite(`${ch(username)}/clips${pageQuery({ cursor: opts.cursor, limit: opts.limit, [MIN_POSITION_PARAM]: lastWrite })}`, opts.signal), 'the clip list');

const vid = (id: string) => `/videos/${encodeURIComponent(id)}`;
const clipPath = (id: string) => `/clips/${encodeURIComponent(id)}`;

/** `GET /videos/:id`: a VOD with chapters, renditions and timeline; 404 `video_not_found`. */
export const getVideo = async (id: string, signal?: AbortSignal) =>
	parsed(vodDetailSchema, await readAfterWrite(`${vid(id)}${pageQuery({ [MIN_POSITION_PARAM]: lastWrite })}`, signal), 'the video');

/**
 * `GET /videos/:id/chat?from=&cursor=&limit=` (or `GET /clips/:id/chat` with `kind: 'clip'`, offsets relative to the
 * clip): replayed messages with `offsetSeconds >= from`, media order ({@link chatReplayPageSchema}).
 */
export const getReplayChat = async (
	kind: 'video' | 'clip',
	id: string,
	opts: { from?: number; cursor?: string | null; limit?: number; signal?: AbortSignal } = {},
) =>
	parsed(
		chatReplayPageSchema,
		await request<unknown>(
			'query',
			`${kind === 'video' ? vid(id) : clipPath(id)}/chat${pageQuery({ from: opts.from === undefined ? null : Math.max(0, Math.floor(opts.from)), cursor: opts.cursor, limit: opts.limit })}`,
			{ signal: opts.signal },
		),
		'the chat replay',
	);

/** `GET /videos/:id/moderation` (owner and moderators; 403 for others). */
export const getReplayModeration = async (token: string, id: string, signal?: AbortSignal) =>
	parsed(replayModerationListSchema, await request<unknown>('query', `${vid(id)}/moderation`, { token, signal }), 'the moderation actions');

/** `GET /videos/:id/activity`: chat messages and viewers per bucket of media time. */
export const getVideoActivity = async (id: string, signal?: AbortSignal) =>
	parsed(activityStripSchema, await request<unknown>('query', `${vid(id)}/activity`, { signal }), 'the chat activity');

/** `DELETE /videos/:id` (command-api, the owner). */
export const deleteVideo = async (token: string, id: string): Promise<void> => {
	sawWrite(parsed(deleteRecordingReplySchema, await request<unknown>('command', vid(id), { method: 'DELETE', token }), 'the deletion'));
};

/** `GET /clips/:id`: one clip; 404 when unknown or deleted. */
export const getClip = async (id: string, signal?: AbortSignal) =>
	parsed(clipViewSchema, await readAfterWrite(`${clipPath(id)}${pageQuery({ [MIN_POSITION_PARAM]: lastWrite })}`, signal), 'the clip');

/** A refused `POST /clips` with 429 `clip_rate_limited`: seconds to wait (`Retry-After`), when the server sent it. */
export class ClipRateLimitedError extends ApiError {
	constructor(message: string, readonly retryAfterSeconds: number | null) {
		super(429, message, [message], 'clip_rate_limited');
		this.name = 'ClipRateLimitedError';
	}
}

/**
 * `POST /clips` (command-api, signed in): the body is checked with {@link createClipRequestSchema} first (an invalid
 * one throws ApiError 400 without a request). 429 → {@link ClipRateLimitedError} with the `Retry-After` seconds.
 */
export async function createClip(token: string, body: CreateClipRequest): Promise<CreateClipReply> {
	const checked = createClipRequestSchema.safeParse(body);
	if (!checked.success) {
		const messages = checked.error.issues.map((i) => i.message);
		throw new ApiError(400, messages.join(' '), messages, 'invalid_request');
	}
	let res: Response;
	try {
		res = await fetch(serviceUrls().commandApi + '/clips', {
			method: 'POST',
			headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${token}` },
			body: JSON.stringify(checked.data),
			cache: 'no-store',
		});
	} catch {
		throw new ApiError(0, "Can't reach the account service. Check your connection and try again.");
	}
	let payload: unknown;
	try {
		payload = JSON.parse(await res.text());
	} catch {
		payload = null;
	}
	if (res.status === 429) {
		const header = res.headers.get('retry-after');
		const n = header === null ? NaN : Number(header);
		const retry = Number.isFinite(n) && n >= 0 ? Math.ceil(n) : header && !Number.isNaN(Date.parse(header)) ? Math.max(0, Math.ceil((Date.parse(header) - Date.now()) / 1000)) : null;
		throw new ClipRateLimitedError(toApiError(429, payload).message, retry);
	}
	if (!res.ok) throw toApiError(res.status, payload);
	const reply = parsed(createClipReplySchema, payload, 'the new clip');
	sawWrite(reply);
	return reply;
}

/** `DELETE /clips/:id` (command-api; the owner, a moderator or the clip's creator — the server decides, 403 else). */
export const deleteClip = async (token: string, id: string): Promise<void> => {
	sawWrite(parsed(deleteClipReplySchema, await request<unknown>('command', clipPath(id), { method: 'DELETE', token }), 'the deletion'));
};

/** `PUT /me/recording` (command-api): whether the caller's next broadcasts are kept as VODs. */
export const setRecording = async (token: string, enabled: boolean) => {
	const body: RecordingSetting = recordingSettingSchema.parse({ enabled });
	return parsed(recordingSettingReplySchema, await request<unknown>('command', '/me/recording', { method: 'PUT', token, body }), 'the recording setting');
};

/** `GET /admin/storage` (admins): disk used by recordings and clips, retention and budget. */
export const getStorageUsage = async (token: string, signal?: AbortSignal) =>
	parsed(storageUsageSchema, await request<unknown>('query', '/admin/storage', { token, signal }), 'the storage usage');
