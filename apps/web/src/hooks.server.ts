/**
 * Server hook of the web app: security headers and Prometheus metrics (README, "Security headers" and "Observability").
 *
 * Security headers on every answer (OWASP Secure Headers Project; MDN "Content-Security-Policy"):
 * - `Content-Security-Policy` on rendered pages: SvelteKit's CSP mode (`csp` of the `sveltekit()` plugin in
 *   vite.config.ts) writes the base policy with a fresh nonce for its own inline bootstrap script (no
 *   `'unsafe-inline'` for scripts); this hook adds the sources only known when the server runs: the command and query
 *   APIs and the realtime edge (`connect-src`, emote images in `img-src`) and the HLS origin (`media-src`,
 *   `connect-src`: hls.js fetches playlists and segments, then plays them through MSE `blob:` URLs; `img-src`: channel
 *   thumbnails on directory cards and as the player's poster). Each comes from its
 *   `PUBLIC_*_URL` / `HLS_PUBLIC_URL` variable, or, unset, from the request's host name and the default port, exactly as
 *   the browser derives it (src/lib/config.ts). `frame-ancestors 'none'` (and the legacy `X-Frame-Options: DENY`):
 *   no page may be framed (clickjacking), except routes in {@link EMBEDDABLE_ROUTES} (embeds, none yet).
 * - `X-Content-Type-Options: nosniff` and `Referrer-Policy: strict-origin-when-cross-origin` on everything.
 *
 * Metrics:
 * - `GET /-/metrics`: process metrics (CPU, memory, event-loop lag, GC: prom-client's defaults), `eventcast_app_info{app="web"}`
 *   and `eventcast_http_requests_total` / `eventcast_http_request_duration_seconds` by method, route id
 *   (SvelteKit's route template, e.g. `/[username=username]`; `unmatched` otherwise) and status.
 *   Not `/metrics`: that path is a valid channel page (`/<username>` with username `metrics`).
 *   When `METRICS_TOKEN` is set, only `Authorization: Bearer <METRICS_TOKEN>` is served (else 401 with
 *   `WWW-Authenticate: Bearer`, RFC 6750 §3), the same rule as the other apps' `/metrics`.
 * - Everything else is resolved by SvelteKit as usual (static assets never reach this hook).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { METRICS_TOKEN } from '$app/env/private';
import { HLS_PUBLIC_URL } from '$app/env/public';
import type { Handle } from '@sveltejs/kit/hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { defaultHlsUrl, serviceUrls } from '#lib/config.ts';

/** Path of the scrape endpoint. */
const METRICS_PATH = '/-/metrics';

/** Route ids that other sites may frame (an embeddable player, when it exists). Empty: nothing is framable. */
const EMBEDDABLE_ROUTES: ReadonlySet<string> = new Set<string>();

const registry = new Registry();
collectDefaultMetrics({ register: registry });
new Gauge({ name: 'eventcast_app_info', help: 'Always 1: one series per Eventcast app running in this process.', labelNames: ['app'], registers: [registry] }).set({ app: 'web' }, 1);
const labelNames = ['app', 'method', 'route', 'status'] as const;
const requests = new Counter({ name: 'eventcast_http_requests_total', help: 'HTTP requests served, by app, method, route template and status.', labelNames, registers: [registry] });
const duration = new Histogram({
	name: 'eventcast_http_request_duration_seconds',
	help: 'HTTP request latency until the response head, by app, method, route template and status.',
	labelNames,
	buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
	registers: [registry],
});

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Whether an `Authorization` header carries `Bearer <token>` (constant-time comparison of SHA-256 digests, so
 * neither the content nor the length of the token leaks through timing). Always true when no token is configured.
 */
function metricsAllowed(authorization: string | null, token: string | undefined): boolean {
	if (!token) return true;
	const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
	return m !== null && timingSafeEqual(sha256(m[1] ?? ''), sha256(token));
}

/** The origin (`scheme://host[:port]`) of `url`, or null when it does not parse. */
function originOf(url: string): string | null {
	try {
		const u = new URL(url);
		return `${u.protocol}//${u.host}`;
	} catch {
		return null;
	}
}

/**
 * Sources to add per directive for a page served at `requestUrl` (see the module comment). The default URLs use the
 * request's host name, as the browser's `location.hostname` does.
 */
function runtimeSources(requestUrl: URL): Record<'connect-src' | 'img-src' | 'media-src', string[]> {
	const urls = serviceUrls(requestUrl.hostname);
	const command = originOf(urls.commandApi);
	const query = originOf(urls.queryApi);
	const ws = originOf(urls.realtime);
	// The edge also answers plain HTTP (viewer counts) on the same host and port.
	const wsHttp = ws?.replace(/^ws(s?):/i, 'http$1:') ?? null;
	const hls = originOf(HLS_PUBLIC_URL ?? defaultHlsUrl(requestUrl.hostname));
	const list = (...xs: (string | null)[]): string[] => [...new Set(xs.filter((x): x is string => x !== null))];
	return {
		'connect-src': list(command, query, ws, wsHttp, hls),
		'img-src': list(query, hls),
		'media-src': list(hls),
	};
}

/**
 * `policy` with `extra` sources appended to its directives (a directive missing from `policy` is left out: it falls back
 * to `default-src`, which the base policy keeps strict), and `frame-ancestors` opened for embeddable routes.
 */
function extendPolicy(policy: string, extra: Record<string, string[]>, embeddable: boolean): string {
	return policy
		.split(';')
		.map((d) => d.trim())
		.filter((d) => d.length > 0)
		.map((d) => {
			const [name = ''] = d.split(/\s+/, 1);
			const add = extra[name.toLowerCase()];
			if (name.toLowerCase() === 'frame-ancestors' && embeddable) return 'frame-ancestors *';
			return add && add.length > 0 ? `${d} ${add.join(' ')}` : d;
		})
		.join('; ');
}

/** Sets the security headers on `response` (a copy when its headers are immutable, e.g. a proxied fetch). */
function secure(response: Response, requestUrl: URL, routeId: string | null): Response {
	let res = response;
	const set = (name: string, value: string): void => {
		try {
			res.headers.set(name, value);
		} catch {
			res = new Response(res.body, res);
			res.headers.set(name, value);
		}
	};
	const embeddable = routeId !== null && EMBEDDABLE_ROUTES.has(routeId);
	const csp = res.headers.get('content-security-policy');
	if (csp) set('content-security-policy', extendPolicy(csp, runtimeSources(requestUrl), embeddable));
	if (!embeddable) set('x-frame-options', 'DENY');
	set('x-content-type-options', 'nosniff');
	set('referrer-policy', 'strict-origin-when-cross-origin');
	return res;
}

/** Serves the scrape endpoint, times every other request SvelteKit renders and adds the security headers. */
export const handle: Handle = async ({ event, resolve }) => {
	if (event.url.pathname === METRICS_PATH) {
		if (!metricsAllowed(event.request.headers.get('authorization'), METRICS_TOKEN)) {
			return secure(
				new Response('metrics need Authorization: Bearer <METRICS_TOKEN>\n', {
					status: 401,
					headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"', 'cache-control': 'no-store' },
				}),
				event.url,
				null,
			);
		}
		return secure(new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' } }), event.url, null);
	}
	const start = performance.now();
	const response = secure(await resolve(event), event.url, event.route.id);
	const labels = { app: 'web', method: event.request.method, route: event.route.id ?? 'unmatched', status: String(response.status) };
	requests.inc(labels);
	duration.observe(labels, (performance.now() - start) / 1000);
	return response;
};
