import {
	PUBLIC_COMMAND_API_URL,
	PUBLIC_QUERY_API_URL,
	PUBLIC_REALTIME_URL,
	PUBLIC_RTMP_URL,
} from '$app/env/public';

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

function host(): string {
	if (typeof location === 'undefined') return '127.0.0.1';
	const h = location.hostname;
	// IPv6 literals need brackets inside a URL.
	return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

export function serviceUrls(): ServiceUrls {
	const h = host();
	return {
		commandApi: PUBLIC_COMMAND_API_URL ?? `http://${h}:4001`,
		queryApi: PUBLIC_QUERY_API_URL ?? `http://${h}:4002`,
		realtime: PUBLIC_REALTIME_URL ?? `ws://${h}:4003/ws`,
		rtmp: PUBLIC_RTMP_URL ?? `rtmp://${h}:1935/live`,
	};
}

/** HTTP base of the realtime edge: PUBLIC_REALTIME_URL with ws→http and without the `/ws` path. */
export function realtimeHttpBase(): string {
	const ws = serviceUrls().realtime;
	return ws.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/ws\/?$/, '').replace(/\/+$/, '');
}
