/** query-api channel and broadcast reads, and the realtime edge's viewer count (docs/contracts.md). */
import { MIN_POSITION_PARAM, type BroadcastView, type ChannelList, type ChannelView } from '@eventcast/contracts';
import { ch, request } from './http.ts';

export type { BroadcastSummary, BroadcastView, ChannelView, MediaInfo } from '@eventcast/contracts';

/** `GET /channels/live`: the live channels. */
export const listLiveChannels = async (signal?: AbortSignal) =>
	(await request<ChannelList>('query', '/channels/live', { signal })).channels;

/** `GET /channels`: every channel. */
export const listChannels = async (signal?: AbortSignal) =>
	(await request<ChannelList>('query', '/channels', { signal })).channels;

/**
 * One channel. `minPosition` (a pushed event's `globalPosition`): the answer reflects at least that event
 * (read-your-writes, libs/contracts/src/read-your-writes.ts); query-api waits for it, bounded, else answers 503
 * with code `position_not_reached` (an ApiError).
 */
export const getChannel = (username: string, signal?: AbortSignal, minPosition?: string | null) =>
	request<ChannelView>('query', `${ch(username)}${minPosition ? `?${MIN_POSITION_PARAM}=${encodeURIComponent(minPosition)}` : ''}`, { signal });

/** `GET /broadcasts/:id`. */
export const getBroadcast = (id: string, signal?: AbortSignal) =>
	request<BroadcastView>('query', `/broadcasts/${encodeURIComponent(id)}`, { signal });

/** The realtime edge's `GET /channels/:username/viewers`: viewers now, summed over all edges. */
export const getViewerCount = async (username: string, signal?: AbortSignal) =>
	(await request<{ channel: string; viewers: number }>('realtime', `${ch(username)}/viewers`, { signal })).viewers;
