/**
 * The HTTP server of the command API: Nest on Fastify (`@nestjs/platform-fastify`). Fastify replaced Express because
 * the framework was most of a command's CPU: a route with the same guard, pipe and CORS costs 0.47–0.57 ms of CPU per
 * request on Express and 0.25–0.27 ms on Fastify on the benchmark machine (bench/results/http-framework.md); the whole
 * platform's HTTP chat send went from 761–915 to 1,390–1,546 req/s (bench/results/command-path-http-ab.md).
 *
 * What this module keeps from the Express days, so clients see the same API:
 * - bodies up to {@link BODY_LIMIT_BYTES} (body-parser's default, 100 KiB; larger → 413 `request body too large`);
 * - a JSON request with an empty body reads as `{}` (body-parser's behaviour; Fastify's default refuses it);
 * - malformed JSON, `__proto__`/`constructor.prototype` keys → 400 `malformed JSON body` (never the parser's message,
 *   which can quote the body); other media types → 415 (the error filter words them, json-depth.ts);
 * - `x-correlation-id` on every response, one log line and the HTTP metrics per request, also for the errors Fastify
 *   answers before any route runs (a malformed percent-encoding in the path, an over-long path parameter): those get
 *   the API's error body and CORS header through `frameworkErrors` instead of Fastify's body, which quotes the URL.
 * - an OPTIONS request that is not a CORS pre-flight gets 204, as Express's `cors` answered (bootstrap.ts).
 *
 * Changed from Express, on purpose: routes are case-sensitive and a trailing slash is another path (404); bodies of other
 * media types (forms, text/plain) are refused with 415 instead of being read as an empty object.
 */
import { HttpException } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Logger } from '@eventcast/platform';
import { CORRELATION_HEADER, correlationHook, type AppRequest } from './correlation.js';
import { toErrorBody } from './http-exception.filter.js';
import { requestLogHook } from './request-log.js';

/** Records one request in the HTTP metrics: method, route template, status, seconds ({@link httpMetricsRecorder}). */
export type HttpMetricsRecord = (method: string, route: string, status: number, seconds: number) => void;

/** Largest request body accepted, bytes (100 KiB, as body-parser's default under Express). */
export const BODY_LIMIT_BYTES = 100 * 1024;

/** Methods a cross-origin browser request may use (the CORS pre-flight's `Access-Control-Allow-Methods`). */
export const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Longest path parameter, characters (Fastify's default is 100; a longer one answers 414 `URI Too Long`). */
const MAX_PARAM_LENGTH = 512;

/**
 * The Fastify adapter Nest runs on, with the body limit of {@link BODY_LIMIT_BYTES} and Fastify's routing errors
 * (`FST_ERR_BAD_URL` 400, `FST_ERR_MAX_PARAM_LENGTH` 414) answered like every other error: the API's error body, the
 * correlation id and CORS headers, a log line and the metrics (route `unmatched`).
 * @param trustedProxies `TRUSTED_PROXIES` (see client-address.ts of @eventcast/platform): the client address of a
 *   request is read from `X-Forwarded-For` only when it came through these; empty: the socket's peer.
 */
export function createHttpAdapter(logger: Logger, record: HttpMetricsRecord, trustedProxies: readonly string[] = []): FastifyAdapter {
  const log = requestLogHook(logger);
  const done = (): void => undefined;
  const frameworkErrors = (error: FastifyError, req: AppRequest, reply: FastifyReply): void => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
    const out = toErrorBody(new HttpException(error.message, status, { cause: error }));
    // Fastify runs no hooks on this path: the correlation id and the log line come from the same hooks as elsewhere.
    correlationHook(req, reply, done);
    void reply.header('access-control-allow-origin', '*').header('access-control-expose-headers', CORRELATION_HEADER).code(out.statusCode).send(out);
    record(req.method, 'unmatched', out.statusCode, reply.elapsedTime / 1000);
    log(req, reply, done);
  };
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    // `request.ip` (the sign-in/sign-up budget's key) from X-Forwarded-For only through these proxies (proxy-addr).
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
  });
}

/** Most bytes of a refused oversize body read and discarded before the socket is destroyed (see installHttpHooks). */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
/** Longest a refused oversize body is drained, ms. */
export const DRAIN_LIMIT_MS = 10_000;
/** Longest a whole request may take to arrive, ms (Node's `requestTimeout`; Fastify's default is none). */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Per request: when it arrived (hrtime, ns) and whether its metrics were recorded (finish and abort can both fire). */
const TIMING = Symbol('eventcast.httpTiming');
type TimedRequest = AppRequest & { [TIMING]?: { start: bigint; recorded: boolean } };

/**
 * Installs, before the routes are registered: the JSON body parser (empty body → `{}`, otherwise Fastify's own parser
 * with prototype-poisoning protection), the correlation-id hook (`onRequest`), the request log line and the HTTP
 * metrics (`onResponse`; an aborted request counts with status 499), and the draining of an oversize body (`onSend`).
 * @param fastify the adapter's instance (`app.getHttpAdapter().getInstance()`), not yet ready.
 * @param record `httpMetricsRecorder` of `@eventcast/platform` for this app.
 */
export function installHttpHooks(fastify: FastifyInstance, logger: Logger, record: HttpMetricsRecord): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  // JSON only: Fastify's built-in text/plain parser would hand a string to the validation pipe; now such a body is a 415.
  fastify.removeContentTypeParser('text/plain');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (req, body, done) => {
    if (body === '') {
      done(null, {});
      return;
    }
    void parseJson(req, typeof body === 'string' ? body : body.toString('utf8'), done);
  });
  // An oversize body is refused (413) before it is read, and Fastify then closes the connection. Closing a socket with
  // unread data makes the kernel answer with a reset, which can destroy the 413 before the client reads it (the client
  // sees EPIPE/ECONNRESET, not the reason). The rest of the body is read and discarded instead — at most
  // DRAIN_LIMIT_BYTES and DRAIN_LIMIT_MS (then the socket is destroyed: an endless upload gains nothing) — and the
  // connection stays usable.
  fastify.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode === 413 && !req.raw.complete) {
      reply.removeHeader('connection');
      let drained = 0;
      const stop = setTimeout(() => req.raw.socket.destroy(), DRAIN_LIMIT_MS);
      stop.unref();
      req.raw.on('data', (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > DRAIN_LIMIT_BYTES) req.raw.socket.destroy();
      });
      req.raw.once('end', () => clearTimeout(stop));
      req.raw.once('close', () => clearTimeout(stop));
      req.raw.resume();
    }
    done(null, payload);
  });
  fastify.addHook('onRequest', (req: TimedRequest, reply, done) => {
    req[TIMING] = { start: process.hrtime.bigint(), recorded: false };
    correlationHook(req, reply, done);
  });
  const log = requestLogHook(logger);
  const metrics = (req: TimedRequest, status: number): void => {
    const timing = req[TIMING];
    if (!timing || timing.recorded) return;
    timing.recorded = true;
    record(req.method, req.routeOptions.url ?? 'unmatched', status, Number(process.hrtime.bigint() - timing.start) / 1e9);
  };
  fastify.addHook('onResponse', (req: TimedRequest, reply: FastifyReply, done) => {
    metrics(req, reply.statusCode);
    log(req, reply, done);
  });
  fastify.addHook('onRequestAbort', (req: TimedRequest, done) => {
    metrics(req, 499);
    done();
  });
}
