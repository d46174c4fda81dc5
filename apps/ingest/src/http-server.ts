/**
 * HLS over HTTP (docs/contracts.md: `GET /hls/<username>/index.m3u8` on INGEST_HTTP_PORT) plus `/health`, `/ready`,
 * `/metrics` (Prometheus text, ./metrics.ts; `Authorization: Bearer <METRICS_TOKEN>` when that is set) and the admins' `/admin/health` (./admin-health.ts).
 *
 * - Playlists: `application/vnd.apple.mpegurl` (RFC 8216 §4), `Cache-Control: no-cache, no-store` (they change every
 *   segment). Segments: `.ts` → `video/mp2t`, `.m4s`/`.mp4` → `video/mp4`, `Cache-Control: public, max-age=60,
 *   immutable` (a segment never changes once renamed into place).
 * - CORS `Access-Control-Allow-Origin: *` on every response; `OPTIONS` answers the preflight with 204.
 * - The raw request path is checked before any normalisation: `.`/`..` segments, encoded slashes, backslashes, NUL or
 *   malformed percent-encoding → 400. Anything else outside the `/hls/<username>/<file>` grammar, or missing → 404.
 *   In-progress `*.tmp` files are never served (their extension is not in the list).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  METRICS_CONTENT_TYPE,
  METRICS_UNAUTHORIZED_MESSAGE,
  METRICS_WWW_AUTHENTICATE,
  metricsAccessAllowed,
  metricsTokenFromEnv,
  renderMetrics,
  type Logger,
} from '@eventcast/platform';
import { authorizeAdmin, type AdminHealthOptions, type IngestHealthReport } from './admin-health.js';
import { USERNAME_RE } from './media-dir.js';

const TYPES: Record<string, { type: string; cache: string }> = {
  '.m3u8': { type: 'application/vnd.apple.mpegurl', cache: 'no-cache, no-store' },
  '.ts': { type: 'video/mp2t', cache: 'public, max-age=60, immutable' },
  '.m4s': { type: 'video/mp4', cache: 'public, max-age=60, immutable' },
  '.mp4': { type: 'video/mp4', cache: 'public, max-age=60, immutable' },
};
const FILE_RE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** Options of {@link createHlsHttpServer}. */
export interface HlsHttpServerOptions {
  /** Absolute MEDIA_DIR. */
  mediaDir: string;
  /** Readiness probe for `/ready` (200 when true, 503 otherwise). */
  isReady: () => boolean;
  log: Logger;
  /** `GET /admin/health` (./admin-health.ts); absent: that path is 404. */
  adminHealth?: AdminHealthOptions;
  /** Bearer token `/metrics` requires; null: open; absent: `METRICS_TOKEN` of the environment (platform's metricsTokenFromEnv). */
  metricsToken?: string | null;
}

/** Result of parsing a request path. */
export type HlsRoute =
  | { kind: 'file'; username: string; file: string; ext: string }
  | { kind: 'health' | 'ready' | 'metrics' | 'admin-health' }
  | { kind: 'bad' }
  | { kind: 'notfound' };

/**
 * Parses the raw request target (`req.url`, not normalised). Exported for unit tests.
 * @returns `bad` for traversal attempts or malformed encoding, `notfound` for anything else unknown.
 */
export function parseHlsPath(rawUrl: string): HlsRoute {
  const q = rawUrl.search(/[?#]/);
  const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  if (!rawPath.startsWith('/') || rawPath.includes('\\')) return { kind: 'bad' };
  const segments: string[] = [];
  for (const raw of rawPath.slice(1).split('/')) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return { kind: 'bad' };
    }
    if (s === '.' || s === '..' || /[/\\\0]/.test(s)) return { kind: 'bad' };
    segments.push(s);
  }
  if (segments.length === 1 && segments[0] === 'health') return { kind: 'health' };
  if (segments.length === 1 && segments[0] === 'ready') return { kind: 'ready' };
  if (segments.length === 1 && segments[0] === 'metrics') return { kind: 'metrics' };
  if (segments.length === 2 && segments[0] === 'admin' && segments[1] === 'health') return { kind: 'admin-health' };
  if (segments[0] !== 'hls' || segments.length !== 3) return { kind: 'notfound' };
  const username = segments[1] ?? '';
  const file = segments[2] ?? '';
  const ext = path.extname(file);
  if (!USERNAME_RE.test(username) || !FILE_RE.test(file) || !(ext in TYPES)) return { kind: 'notfound' };
  return { kind: 'file', username, file, ext };
}

function json(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

async function serveFile(req: IncomingMessage, res: ServerResponse, o: HlsHttpServerOptions, r: { username: string; file: string; ext: string }): Promise<void> {
  const head = req.method === 'HEAD';
  const file = path.join(o.mediaDir, r.username, r.file);
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    json(res, 404, { statusCode: 404, error: 'Not Found', message: 'no such HLS file' }, head);
    return;
  }
  const t = TYPES[r.ext];
  if (!t) return;
  const stream = createReadStream(file);
  // Open first: the file may vanish (segment deleted) between stat and open.
  const opened = await new Promise<boolean>((resolve) => {
    stream.once('open', () => resolve(true));
    stream.once('error', () => resolve(false));
  });
  if (!opened) {
    json(res, 404, { statusCode: 404, error: 'Not Found', message: 'no such HLS file' }, head);
    return;
  }
  res.writeHead(200, { 'Content-Type': t.type, 'Cache-Control': t.cache, 'Content-Length': size });
  if (head) {
    stream.destroy();
    res.end();
    return;
  }
  await pipeline(stream, res).catch(() => undefined);
}

/**
 * Creates (does not start) the HTTP server. Call `listen(port, host)` on the result.
 * Methods: GET/HEAD serve, OPTIONS preflight (204), others 405.
 */
export function createHlsHttpServer(o: HlsHttpServerOptions): http.Server {
  const metricsToken = o.metricsToken !== undefined ? o.metricsToken : metricsTokenFromEnv();
  return http.createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Type');
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
        'Access-Control-Max-Age': '86400',
      });
      res.end();
      return;
    }
    const head = method === 'HEAD';
    if (method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD, OPTIONS');
      json(res, 405, { statusCode: 405, error: 'Method Not Allowed', message: `${method} is not supported` }, false);
      return;
    }
    const route = parseHlsPath(req.url ?? '/');
    switch (route.kind) {
      case 'health':
        json(res, 200, { status: 'ok' }, head);
        return;
      case 'ready': {
        const ready = o.isReady();
        json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready' }, head);
        return;
      }
      case 'metrics':
        if (!metricsAccessAllowed(req.headers.authorization, metricsToken)) {
          res.setHeader('WWW-Authenticate', METRICS_WWW_AUTHENTICATE);
          res.setHeader('Cache-Control', 'no-store');
          json(res, 401, { statusCode: 401, error: 'Unauthorized', message: METRICS_UNAUTHORIZED_MESSAGE }, head);
          return;
        }
        renderMetrics().then(
          (text) => {
            res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
            res.end(head ? undefined : text);
          },
          (err: unknown) => {
            o.log.warn({ err: (err as Error).message }, 'metrics unavailable');
            json(res, 500, { statusCode: 500, error: 'Internal Server Error', message: 'metrics unavailable' }, head);
          },
        );
        return;
      case 'admin-health': {
        const admin = o.adminHealth;
        if (!admin) {
          json(res, 404, { statusCode: 404, error: 'Not Found', message: 'not found' }, head);
          return;
        }
        authorizeAdmin(req.headers.authorization, admin.jwtSecret, admin.admins).then(
          (auth) => {
            if (!auth.ok) {
              json(res, auth.status, { statusCode: auth.status, error: auth.status === 401 ? 'Unauthorized' : 'Forbidden', message: auth.message }, head);
              return;
            }
            const report: IngestHealthReport = { ingestId: admin.ingestId, at: new Date().toISOString(), channels: admin.channels() };
            res.setHeader('Cache-Control', 'no-store');
            json(res, 200, report, head);
          },
          (err: unknown) => {
            o.log.warn({ err: (err as Error).message }, 'admin health failed');
            json(res, 500, { statusCode: 500, error: 'Internal Server Error', message: 'admin health unavailable' }, head);
          },
        );
        return;
      }
      case 'bad':
        json(res, 400, { statusCode: 400, error: 'Bad Request', message: 'invalid path' }, head);
        return;
      case 'notfound':
        json(res, 404, { statusCode: 404, error: 'Not Found', message: 'not found' }, head);
        return;
      case 'file':
        serveFile(req, res, o, route).catch((err: unknown) => {
          o.log.warn({ err: (err as Error).message }, 'HLS request failed');
          if (!res.headersSent) json(res, 500, { statusCode: 500, error: 'Internal Server Error', message: 'read failed' }, head);
          else res.destroy();
        });
    }
  });
}
