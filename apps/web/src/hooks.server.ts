/**
 * Server hook of the web app: Prometheus metrics (README, "Observability") with prom-client, one registry per process.
 * - `GET /-/metrics`: process metrics (CPU, memory, event-loop lag, GC: prom-client's defaults), `eventcast_app_info{app="web"}`
 *   and `eventcast_http_requests_total` / `eventcast_http_request_duration_seconds` by method, route id
 *   (SvelteKit's route template, e.g. `/[username=username]`; `unmatched` otherwise) and status.
 *   Not `/metrics`: that path is a valid channel page (`/<username>` with username `metrics`).
 * - Everything else is resolved by SvelteKit as usual (static assets never reach this hook).
 */
import type { Handle } from '@sveltejs/kit/hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Path of the scrape endpoint. */
const METRICS_PATH = '/-/metrics';

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

/** Serves the scrape endpoint and times every other request SvelteKit renders. */
export const handle: Handle = async ({ event, resolve }) => {
	if (event.url.pathname === METRICS_PATH) {
		return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' } });
	}
	const start = performance.now();
	const response = await resolve(event);
	const labels = { app: 'web', method: event.request.method, route: event.route.id ?? 'unmatched', status: String(response.status) };
	requests.inc(labels);
	duration.observe(labels, (performance.now() - start) / 1000);
	return response;
};
