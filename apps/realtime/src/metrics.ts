/**
 * The edge's Prometheus metrics (README, "Observability") on the process registry of @eventcast/platform, and the
 * `GET /metrics` route for uWS. Counters are module-level (one edge per process in production; tests that run
 * several edges in one process see their sum):
 * - `eventcast_realtime_connections` (gauge: WebSockets open) and `eventcast_realtime_connections_opened_total`;
 * - `eventcast_realtime_disconnects_total{code}` (WebSocket close code);
 * - `eventcast_realtime_frames_received_total{type}` (client frames by message type, `invalid` when refused);
 * - `eventcast_realtime_frames_sent_total{type}` (frames sent to one socket; topic fan-out is counted by event);
 * - `eventcast_realtime_error_frames_total{code}`;
 * - `eventcast_realtime_backpressure_drops_total` (a slow client's buffer overflowed: the frame is dropped and the
 *   client disconnected, `closeOnBackpressureLimit`);
 * - `eventcast_realtime_upgrades_refused_total{status}` (429 per-IP limit, 503 shutting down);
 * - `eventcast_realtime_events_relayed_total{type}` and `eventcast_realtime_events_ignored_total{reason}` (NATS → viewers).
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import {
  counter,
  gauge,
  METRICS_CONTENT_TYPE,
  METRICS_UNAUTHORIZED_MESSAGE,
  METRICS_WWW_AUTHENTICATE,
  metricsAccessAllowed,
  metricsTokenFromEnv,
  registerAppMetrics,
  renderMetrics,
} from '@eventcast/platform';

const connections = gauge({ name: 'eventcast_realtime_connections', help: 'WebSocket connections open on this edge.' });
const opened = counter({ name: 'eventcast_realtime_connections_opened_total', help: 'WebSocket connections accepted.' });
const disconnects = counter({ name: 'eventcast_realtime_disconnects_total', help: 'WebSocket connections closed, by close code.', labelNames: ['code'] });
const framesIn = counter({ name: 'eventcast_realtime_frames_received_total', help: 'Client frames received, by message type (invalid = refused before dispatch).', labelNames: ['type'] });
const framesOut = counter({ name: 'eventcast_realtime_frames_sent_total', help: 'Frames sent to a single socket, by frame type (topic fan-out not included).', labelNames: ['type'] });
const errorFrames = counter({ name: 'eventcast_realtime_error_frames_total', help: 'Error frames sent, by error code.', labelNames: ['code'] });
const drops = counter({ name: 'eventcast_realtime_backpressure_drops_total', help: 'Frames dropped by back-pressure; the slow client is then disconnected.' });
const refused = counter({ name: 'eventcast_realtime_upgrades_refused_total', help: 'WebSocket upgrades refused, by HTTP status (429 per-IP limit, 503 shutting down).', labelNames: ['status'] });
const relayed = counter({ name: 'eventcast_realtime_events_relayed_total', help: 'Domain events relayed from NATS to viewers, by event type.', labelNames: ['type'] });
const ignored = counter({ name: 'eventcast_realtime_events_ignored_total', help: 'Bus messages not relayed, by reason (not_relayed, invalid).', labelNames: ['reason'] });

/** Bound children per label value, so the hot paths skip prom-client's label hashing. */
function bound<T>(make: (value: string) => T): (value: string) => T {
  const cache = new Map<string, T>();
  return (value) => {
    let c = cache.get(value);
    if (c === undefined) {
      c = make(value);
      cache.set(value, c);
    }
    return c;
  };
}
const framesInOf = bound((type) => framesIn.labels({ type }));
const framesOutOf = bound((type) => framesOut.labels({ type }));
const errorsOf = bound((code) => errorFrames.labels({ code }));
const relayedOf = bound((type) => relayed.labels({ type }));

/** Process-wide edge metrics; call sites live in ./gateway.ts and ./relay.ts. */
export const edgeMetrics = {
  /** A WebSocket opened. */
  opened(): void {
    opened.inc();
    connections.inc();
  },
  /** A WebSocket closed with `code`. */
  closed(code: number): void {
    connections.dec();
    disconnects.inc({ code: String(code) });
  },
  /** A client frame of `type` was accepted (or `invalid`). */
  received(type: string): void {
    framesInOf(type).inc();
  },
  /** A frame went to one socket; error frames also count by code. */
  sent(frame: { type: string; code?: string }): void {
    framesOutOf(frame.type).inc();
    if (frame.type === 'error' && frame.code !== undefined) errorsOf(frame.code).inc();
  },
  /** uWS dropped a frame by back-pressure. */
  dropped(): void {
    drops.inc();
  },
  /** An upgrade was refused with HTTP `status` (e.g. `429 Too Many Requests`). */
  refused(status: string): void {
    refused.inc({ status: status.slice(0, 3) });
  },
  /** An event of `type` went to viewers. */
  relayed(type: string): void {
    relayedOf(type).inc();
  },
  /** A bus message was not relayed. */
  ignored(reason: string): void {
    ignored.inc({ reason });
  },
};

/**
 * uWS handler of `GET /metrics`: the process registry as Prometheus text (prom-client). Registers the `realtime`
 * app info and process metrics when created. Follows the uWS rules for async answers (onAborted, cork).
 * With a metrics token (`token`, default `METRICS_TOKEN` of the environment), a request without
 * `Authorization: Bearer <token>` gets 401 + `WWW-Authenticate: Bearer realm="metrics"` (platform's metricsAccessAllowed).
 * @throws {Error} when `METRICS_TOKEN` is set but too short (at creation).
 */
export function metricsRoute(token: string | null = metricsTokenFromEnv()): (res: HttpResponse, req: HttpRequest) => void {
  registerAppMetrics('realtime');
  return (res, req) => {
    // uWS: the request object is only valid synchronously, read the header now.
    if (!metricsAccessAllowed(req.getHeader('authorization'), token)) {
      res.cork(() => {
        res.writeStatus('401 Unauthorized');
        res.writeHeader('WWW-Authenticate', METRICS_WWW_AUTHENTICATE);
        res.writeHeader('Content-Type', 'application/json; charset=utf-8');
        res.writeHeader('Cache-Control', 'no-store');
        res.end(JSON.stringify({ statusCode: 401, error: 'Unauthorized', message: METRICS_UNAUTHORIZED_MESSAGE }));
      });
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    renderMetrics().then(
      (text) => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus('200 OK');
          res.writeHeader('Content-Type', METRICS_CONTENT_TYPE);
          res.writeHeader('Cache-Control', 'no-store');
          res.end(text);
        });
      },
      (err: unknown) => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus('500 Internal Server Error');
          res.writeHeader('Content-Type', 'text/plain');
          res.end(`metrics unavailable: ${err instanceof Error ? err.message : String(err)}`);
        });
      },
    );
  };
}
