import {
	HLS_PUBLIC_URL,
	PUBLIC_COMMAND_API_URL,
	PUBLIC_QUERY_API_URL,
	PUBLIC_REALTIME_URL,
	PUBLIC_RTMP_URL,
} from '$app/env/public';
import { INGEST_DEFAULT_PORTS } from '@eventcast/contracts';

/**
 * Browser-facing service URLs. Set through the PUBLIC_* env vars when the web server starts;
 * when unset they are derived from the page's hostname and the default ports (docs/contracts.md).
 */
export interface ServiceUrls {
	commandApi: string;
	queryApi: string;
	realtime: string;
	rtmp: string;
}

/** `hostname` as it stands in a URL: IPv6 literals need brackets. */
function urlHost(hostname: string): string {
	return hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
}

/**
 * The service URLs for a page whose host name is `hostname` (default: the browser's `location.hostname`, or 127.0.0.1
 * outside a browser). The server hook passes the request's host name to build the Content-Security-Policy.
 */
export function serviceUrls(hostname: string = typeof location === 'undefined' ? '127.0.0.1' : location.hostname): ServiceUrls {
	const h = urlHost(hostname);
	return {
		commandApi: PUBLIC_COMMAND_API_URL ?? `http://${h}:4001`,
		queryApi: PUBLIC_QUERY_API_URL ?? `http://${h}:4002`,
		realtime: PUBLIC_REALTIME_URL ?? `ws://${h}:4003/ws`,
		rtmp: PUBLIC_RTMP_URL ?? `rtmp://${h}:${INGEST_DEFAULT_PORTS.rtmp}/live`,
	};
}

/** The HLS origin's default for `hostname` when HLS_PUBLIC_URL is unset (docs/contracts.md: the ingest's port 8000). */
export function defaultHlsUrl(hostname: string): string {
	return `http://${urlHost(hostname)}:8000`;
}

/**
 * Base of the HLS origin as the browser sees it (HLS_PUBLIC_URL, read when the web server starts; unset: the
 * ingest's port 8000 on the page's host): recorded-media paths (`/vod/…`, `/clips/…`) of query-api resolve against it.
 */
export function hlsBase(hostname: string = typeof location === 'undefined' ? '127.0.0.1' : location.hostname): string {
	return HLS_PUBLIC_URL ?? defaultHlsUrl(hostname);
}

/** HTTP base of the realtime edge: PUBLIC_REALTIME_URL with ws→http and without the `/ws` path. */
export function realtimeHttpBase(): string {
	const ws = serviceUrls().realtime;
	return ws.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/ws\/?$/, '').replace(/\/+$/, '');
}
