import { defineEnvVars } from '@sveltejs/kit/env';

/** Optional URL: unset or empty means "derive from location.hostname in the browser". */
const optionalUrl = (value: string | undefined): string | undefined => {
	const v = value?.trim();
	return v ? v.replace(/\/+$/, '') : undefined;
};

// Browser-facing service URLs, read when the server starts (not at build time), so one build works anywhere.
export const variables = defineEnvVars({
	PUBLIC_COMMAND_API_URL: {
		public: true,
		schema: optionalUrl,
		description: 'command-api base URL as seen by the browser (default http://<host>:4001)',
	},
	PUBLIC_QUERY_API_URL: {
		public: true,
		schema: optionalUrl,
		description: 'query-api base URL as seen by the browser (default http://<host>:4002)',
	},
	PUBLIC_REALTIME_URL: {
		public: true,
		schema: optionalUrl,
		description: 'realtime WebSocket URL (default ws://<host>:4003/ws)',
	},
	PUBLIC_RTMP_URL: {
		public: true,
		schema: optionalUrl,
		description: 'RTMP server URL shown to creators for OBS (default rtmp://<host>:1935/live)',
	},
	HLS_PUBLIC_URL: {
		public: true,
		schema: optionalUrl,
		description: 'HLS origin the browser plays from (as query-api\'s HLS_PUBLIC_URL; default http://<host>:8000): allowed in the Content-Security-Policy, and the base of recorded-media paths (`/vod/…`, `/clips/…`)',
	},
	METRICS_TOKEN: {
		schema: (value: string | undefined) => {
			const token = value?.trim();
			if (!token) return undefined;
			// The same rule as the other apps (libs/platform metricsTokenFromEnv): a guessable token protects nothing.
			if (token.length < 16) throw new Error('METRICS_TOKEN must be at least 16 characters');
			return token;
		},
		description: 'when set, GET /-/metrics needs Authorization: Bearer <METRICS_TOKEN> (README, "Observability")',
	},
});
