/**
 * Prometheus metrics (prom-client): ONE registry per process, default process metrics (CPU, memory, event-loop lag,
 * GC, handles — prom-client's `collectDefaultMetrics`), and get-or-create helpers so that a module loaded twice, or
 * two app instances in one test process, share a metric instead of failing on a duplicate registration.
 *
 * Exposition is prom-client's text format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/);
 * names follow https://prometheus.io/docs/practices/naming/ (`eventcast_` prefix, base units, `_total` counters,
 * `_seconds` durations). Every app serves it at `GET /metrics` (README, "Observability"), behind a bearer token when
 * `METRICS_TOKEN` is set ({@link metricsAccessAllowed}).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { createHash, timingSafeEqual } from 'node:crypto';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The process registry every helper below registers into. */
export const metricsRegistry = new Registry();

/** `Content-Type` of {@link renderMetrics}' output (`text/plain; version=0.0.4; charset=utf-8`). */
export const METRICS_CONTENT_TYPE: string = metricsRegistry.contentType;

let defaultsOn = false;

/**
 * Marks this process as running `app`: enables the default process metrics once (no prefix: `process_cpu_seconds_total`,
 * `nodejs_eventloop_lag_seconds`, …) and sets `eventcast_app_info{app} 1`. Idempotent; several apps in one
 * process (tests) each get their info series.
 * @param app short app name, e.g. `command-api`.
 */
export function registerAppMetrics(app: string): void {
  if (!defaultsOn) {
    collectDefaultMetrics({ register: metricsRegistry });
    defaultsOn = true;
  }
  gauge({ name: 'eventcast_app_info', help: 'Always 1: one series per Eventcast app running in this process.', labelNames: ['app'] }).set({ app }, 1);
}

function existing<T>(name: string, kind: new (...args: never[]) => T): T | undefined {
  const found = metricsRegistry.getSingleMetric(name);
  if (found === undefined) return undefined;
  if (!(found instanceof kind)) throw new Error(`metric ${name} is already registered with another type`);
  return found;
}

/**
 * Returns the counter `config.name` of the process registry, creating it on first use.
 * @throws {Error} when a metric of that name exists with another type, or the name/labels are invalid.
 */
export function counter<L extends string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
  return existing(config.name, Counter<L>) ?? new Counter<L>({ ...config, registers: [metricsRegistry] });
}

/**
 * Returns the gauge `config.name`, creating it on first use (a `collect` callback, when given, runs at every scrape).
 * @throws {Error} when a metric of that name exists with another type.
 */
export function gauge<L extends string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
  return existing(config.name, Gauge<L>) ?? new Gauge<L>({ ...config, registers: [metricsRegistry] });
}

/**
 * Returns the histogram `config.name`, creating it on first use.
 * @throws {Error} when a metric of that name exists with another type.
 */
export function histogram<L extends string>(config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
  return existing(config.name, Histogram<L>) ?? new Histogram<L>({ ...config, registers: [metricsRegistry] });
}

/** Environment variable of the bearer token that `/metrics` of every app requires when set (README, "Observability"). */
export const METRICS_TOKEN_VAR = 'METRICS_TOKEN';

/** Shortest accepted `METRICS_TOKEN` (characters): a guessable token protects nothing. */
export const METRICS_TOKEN_MIN_LENGTH = 16;

/** `WWW-Authenticate` of a refused scrape (RFC 6750 §3: the Bearer scheme). */
export const METRICS_WWW_AUTHENTICATE = 'Bearer realm="metrics"';

/** Message of the 401 answered to a scrape without the right token. */
export const METRICS_UNAUTHORIZED_MESSAGE = 'metrics need the header Authorization: Bearer <METRICS_TOKEN>';

/**
 * The configured metrics token: `METRICS_TOKEN` trimmed, or null when unset or empty (metrics open: the default for
 * local use; protect them in production, or keep the ports internal).
 * @throws {Error} naming the variable when it is set but shorter than {@link METRICS_TOKEN_MIN_LENGTH} characters.
 */
export function metricsTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  const raw = env[METRICS_TOKEN_VAR]?.trim();
  if (!raw) return null;
  if (raw.length < METRICS_TOKEN_MIN_LENGTH) throw new Error(`invalid configuration: ${METRICS_TOKEN_VAR} must be at least ${METRICS_TOKEN_MIN_LENGTH} characters`);
  return raw;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Whether a scrape may read the metrics: always when `token` is null, else only with `Authorization: Bearer <token>`
 * (scheme case-insensitive, RFC 6750 §2.1). The comparison is constant-time over SHA-256 digests, so neither the
 * token's content nor its length leaks through timing.
 * @param authorization the request's `Authorization` header (absent: undefined/null).
 * @param token {@link metricsTokenFromEnv}.
 */
export function metricsAccessAllowed(authorization: string | null | undefined, token: string | null): boolean {
  if (token === null) return true;
  const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

/** Buckets (seconds) of HTTP request durations: 2.5 ms … 10 s. */
export const HTTP_DURATION_BUCKETS: readonly number[] = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The whole registry in the Prometheus text format (see {@link METRICS_CONTENT_TYPE}). Runs the `collect` callbacks. */
export function renderMetrics(): Promise<string> {
  return metricsRegistry.metrics();
}

/** The request fields {@link httpMetricsMiddleware} reads (Express's, structurally: no Express import here). */
export interface HttpMetricsRequest {
  method: string;
  /** Set by Express once a route matched: `route.path` is the template, e.g. `/channels/:username`. */
  route?: { path?: unknown };
  baseUrl?: string;
}

/** The response fields {@link httpMetricsMiddleware} reads. */
export interface HttpMetricsResponse {
  statusCode: number;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * Express-style middleware recording every HTTP request of `app` in
 * `eventcast_http_requests_total{app,method,route,status}` and
 * `eventcast_http_request_duration_seconds{app,method,route,status}` (histogram, {@link HTTP_DURATION_BUCKETS}).
 * `route` is the matched route template (never the raw path, which would explode the series count) or
 * `unmatched` (404s of unknown paths, CORS pre-flights). Requests that end with an aborted connection count with status 499.
 * @param app app label, e.g. `query-api`.
 */
export function httpMetricsMiddleware(app: string): (req: HttpMetricsRequest, res: HttpMetricsResponse, next: () => void) => void {
  const record = httpMetricsRecorder(app);
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    let done = false;
    const finish = (aborted: boolean): void => {
      if (done) return;
      done = true;
      const route = typeof req.route?.path === 'string' ? `${req.baseUrl ?? ''}${req.route.path}` : 'unmatched';
      record(req.method, route, aborted ? 499 : res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(true));
    next();
  };
}

/**
 * The recorder behind {@link httpMetricsMiddleware}, for servers that are not Express (command-api runs on Fastify and
 * calls it from its `onResponse`/`onRequestAbort` hooks): records one request of `app` with its method, route template
 * (`unmatched` when none matched), status (499 for an aborted connection) and duration in seconds.
 * @param app app label, e.g. `command-api`.
 */
export function httpMetricsRecorder(app: string): (method: string, route: string, status: number, seconds: number) => void {
  const labelNames = ['app', 'method', 'route', 'status'] as const;
  const requests = counter({ name: 'eventcast_http_requests_total', help: 'HTTP requests served, by app, method, route template and status.', labelNames });
  const duration = histogram({
    name: 'eventcast_http_request_duration_seconds',
    help: 'HTTP request latency (first byte in to last byte out), by app, method, route template and status.',
    labelNames,
    buckets: [...HTTP_DURATION_BUCKETS],
  });
  return (method, route, status, seconds) => {
    const labels = { app, method, route, status: String(status) };
    requests.inc(labels);
    duration.observe(labels, seconds);
  };
}

/** One sample line of a parsed exposition: metric name (with `_bucket`/`_count`/`_sum` suffixes as written), labels, value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family as parsed by {@link parseMetrics}. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  samples: MetricSample[];
}

interface RawFamily {
  name: string;
  help: string;
  type: MetricFamily['type'];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL_PAIR.lastIndex = 0;
  let consumed = 0;
  for (let m = LABEL_PAIR.exec(text); m; m = LABEL_PAIR.exec(text)) {
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    consumed = LABEL_PAIR.lastIndex;
  }
  if (consumed !== text.length) throw new Error(`invalid labels in metrics line: ${line}`);
  return labels;
}

/**
 * Parses Prometheus text exposition (format 0.0.4). The whole text is first checked by `parse-prometheus-text-format`
 * (it throws on malformed lines, HELP/TYPE misuse, bad values), so a passing parse shows the format is valid; sample
 * lines are then read here one by one, because that library merges the label sets of a histogram into one.
 * Each family lists its samples as written (`<name>_bucket{le}`, `<name>_count`, `<name>_sum` for histograms).
 * @throws {Error} when the text is not valid exposition format.
 */
export function parseMetrics(text: string): MetricFamily[] {
  const raw = parsePrometheusTextFormat(text) as RawFamily[];
  const families = new Map<string, MetricFamily>(raw.map((f) => [f.name, { name: f.name, help: f.help, type: f.type, samples: [] }]));
  const familyOf = (name: string): MetricFamily | undefined =>
    families.get(name) ?? families.get(name.replace(/_(bucket|count|sum|total|created)$/, ''));
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`invalid metrics line: ${line}`);
    const name = m[1]!;
    // Go's ParseFloat (what Prometheus uses) accepts Inf/NaN in any case; prom-client writes `Nan`.
    const text = m[3]!;
    const value = /^\+?inf$/i.test(text) ? Infinity : /^-inf$/i.test(text) ? -Infinity : /^nan$/i.test(text) ? NaN : Number(text);
    if (Number.isNaN(value) && !/^nan$/i.test(text)) throw new Error(`invalid value in metrics line: ${line}`);
    const family = familyOf(name);
    if (!family) throw new Error(`sample without a family: ${line}`);
    family.samples.push({ name, labels: m[2] ? parseLabels(m[2], line) : {}, value });
  }
  return [...families.values()];
}

/**
 * Sum of the samples named `name` whose labels include every pair of `labels` (0 when none match).
 * @param families output of {@link parseMetrics}.
 */
export function sampleValue(families: readonly MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const f of families) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}
