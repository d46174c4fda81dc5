/**
 * Recordings, VODs, chat replay and clips (issue 11; shapes and schemas in @eventcast/contracts vod.ts): every reply is
 * checked with its contract schema ({@link parsed}). Reads after this tab's own clip or deletion ask query-api for at
 * least that write's position (read-your-writes).
 */
import {
	activityStripSchema,
	chatReplayPageSchema,
	clipListSchema,
	clipViewSchema,
	createClipReplySchema,
	createClipRequestSchema,
	deleteClipReplySchema,
	deleteRecordingReplySchema,
	MIN_POSITION_PARAM,
	POSITION_NOT_REACHED_CODE,
	recordingSettingReplySchema,
	recordingSettingSchema,
	replayModerationListSchema,
	vodDetailSchema,
	vodListSchema,
	type CreateClipReply,
	type CreateClipRequest,
	type RecordingSetting,
} from '@eventcast/contracts';
import { hlsBase, serviceUrls } from '../config.ts';
import { ApiError, ch, pageQuery, parsed, request, toApiError, unreachable } from './http.ts';

export type {
	ActivityStrip,
	ChatReplayMessage,
	ChatReplayPage,
	ClipList,
	ClipView,
	CreateClipReply,
	CreateClipRequest,
	ReplayModerationAction,
	VodChapter,
	VodDetail,
	VodList,
	VodSummary,
} from '@eventcast/contracts';

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
		throw unreachable('command');
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
