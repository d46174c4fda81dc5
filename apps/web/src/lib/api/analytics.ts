/** Analytics and stream health of query-api (docs/contracts.md "Analytics", "Stream health"; owner or admin, Bearer). */
import type { AdminSummary, BroadcastDetail, BroadcastHealthSeries, ChannelAnalytics, ChannelHealthResponse, DailySeries } from '@eventcast/contracts';
import { ch, request, toApiError, unreachable } from './http.ts';
import { serviceUrls } from '../config.ts';

export type {
	AdminSummary,
	AnalyticsTotals,
	BroadcastAnalytics,
	BroadcastDetail,
	BroadcastHealthSeries,
	ChannelAnalytics,
	ChannelHealthResponse,
	DailySeries,
	DayAnalytics,
	HealthWarning,
	LastPublishRefusal,
	StreamHealthMeasures,
} from '@eventcast/contracts';

const range = (from: string, to: string) => new URLSearchParams({ from, to }).toString();

/** The channel's all-time totals and its newest 100 broadcasts. */
export const getChannelAnalytics = (token: string, username: string, signal?: AbortSignal) =>
	request<ChannelAnalytics>('query', `/analytics${ch(username)}?limit=100`, { token, signal });

/** One row per UTC day of `from`–`to` (`YYYY-MM-DD`). */
export const getDailyAnalytics = (token: string, username: string, from: string, to: string, signal?: AbortSignal) =>
	request<DailySeries>('query', `/analytics${ch(username)}/daily?${range(from, to)}`, { token, signal });

export const getBroadcastAnalytics = (token: string, id: string, signal?: AbortSignal) =>
	request<BroadcastDetail>('query', `/analytics/broadcasts/${encodeURIComponent(id)}`, { token, signal });

/** The platform over `from`–`to` (admins). */
export const getAnalyticsSummary = (token: string, from: string, to: string, signal?: AbortSignal) =>
	request<AdminSummary>('query', `/analytics/summary?${range(from, to)}`, { token, signal });

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
		throw unreachable('query');
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
