/**
 * The HTTP server of the command API: Nest on Fastify (`@nestjs/platform-fastify`). Fastify replaced Express because
 * the framework was most of a command's CPU: a route with the same guard, pipe and CORS cost 0.50 ms of CPU per request
 * on Express and 0.24 ms on Fastify on the benchmark machine (bench/results/command-path-http-fastify.md).
 *
 * What this module keeps from the Express days, so clients see the same API:
 * - bodies up to {@link BODY_LIMIT_BYTES} (body-parser's default, 100 KiB; larger → 413 `request body too large`);
 * - a JSON request with an empty body reads as `{}` (body-parser's behaviour; Fastify's default refuses it);
 * - malformed JSON, `__proto__`/`constructor.prototype` keys → 400 `malformed JSON body` (never the parser's message,
 *   which can quote the body); other media types → 415 (the error filter words them, json-depth.ts);
 * - `x-correlation-id` on every response, one log line and the HTTP metrics per request.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Logger } from '@eventcast/platform';
import { correlationHook, type AppRequest } from './correlation.js';
import { requestLogHook } from './request-log.js';

/** Largest request body accepted, bytes (100 KiB, as body-parser's default under Express). */
export const BODY_LIMIT_BYTES = 100 * 1024;

/** Methods a cross-origin browser request may use (the CORS pre-flight's `Access-Control-Allow-Methods`). */
export const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Longest path parameter, characters (Fastify's default is 100; a longer one answers 404). */
const MAX_PARAM_LENGTH = 512;

/** The Fastify adapter Nest runs on, with the body limit of {@link BODY_LIMIT_BYTES}. */
export function createHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, routerOptions: { maxParamLength: MAX_PARAM_LENGTH } });
}

/** Per request: when it arrived (hrtime, ns) and whether its metrics were recorded (finish and abort can both fire). */
const TIMING = Symbol('eventcast.httpTiming');
type TimedRequest = AppRequest & { [TIMING]?: { start: bigint; recorded: boolean } };

/**
 * Installs, before the routes are registered: the JSON body parser (empty body → `{}`, otherwise Fastify's own parser
 * with prototype-poisoning protection), the correlation-id hook (`onRequest`), the request log line and the HTTP
 * metrics (`onResponse`; an aborted request counts with status 499).
 * @param fastify the adapter's instance (`app.getHttpAdapter().getInstance()`), not yet ready.
 * @param record {@link httpMetricsRecorder} of `@eventcast/platform` for this app.
 */
export function installHttpHooks(
  fastify: FastifyInstance,
  logger: Logger,
  record: (method: string, route: string, status: number, seconds: number) => void,
): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (req, body, done) => {
    if (body === '') {
      done(null, {});
      return;
    }
    void parseJson(req, typeof body === 'string' ? body : body.toString('utf8'), done);
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
