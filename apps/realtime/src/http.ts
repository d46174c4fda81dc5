/**
 * Small HTTP helpers for uWS responses: JSON bodies with CORS, and safe async handlers.
 *
 * uWS rule: a response that is answered after an `await` needs an `onAborted` handler, must not be touched once
 * aborted, and should be written inside `cork`. {@link handleAsync} takes care of all three.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

/** CORS headers on every HTTP answer: the endpoints are public and take no credentials. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '600',
};

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: '200 OK',
  204: '204 No Content',
  400: '400 Bad Request',
  404: '404 Not Found',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/** Error body of the HTTP contract (docs/contracts.md): `{ statusCode, error, message }`. */
export function errorBody(statusCode: number, message: string): { statusCode: number; error: string; message: string } {
  return { statusCode, error: (STATUS_TEXT[statusCode] ?? String(statusCode)).replace(/^\d+ /, ''), message };
}

/** Writes a complete JSON response (status, CORS, `Content-Type`, body). Call inside `cork` when async. */
export function sendJson(res: HttpResponse, status: number, body: unknown): void {
  res.writeStatus(STATUS_TEXT[status] ?? `${status} Unknown`);
  for (const [k, v] of Object.entries(CORS_HEADERS)) res.writeHeader(k, v);
  res.writeHeader('Content-Type', 'application/json');
  res.writeHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

/** Answers a CORS pre-flight: 204 with the CORS headers. */
export function sendPreflight(res: HttpResponse): void {
  res.writeStatus(STATUS_TEXT[204] ?? '204 No Content');
  for (const [k, v] of Object.entries(CORS_HEADERS)) res.writeHeader(k, v);
  res.endWithoutBody();
}

/**
 * Wraps an async handler that computes `[status, body]`. The request fields it needs must be read synchronously
 * by `read` (uWS requests are only valid during the callback). Exceptions become 500 with a generic message.
 */
export function handleAsync<T>(
  read: (req: HttpRequest) => T,
  compute: (input: T) => Promise<[number, unknown]>,
  onError: (err: unknown) => void,
): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const input = read(req);
    compute(input)
      .catch((err: unknown): [number, unknown] => {
        onError(err);
        return [500, errorBody(500, 'internal error')];
      })
      .then(([status, body]) => {
        if (!aborted) res.cork(() => sendJson(res, status, body));
      })
      .catch(onError);
  };
}
