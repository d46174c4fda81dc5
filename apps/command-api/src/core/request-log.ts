/** One JSON log line per HTTP request: method, path (no query string), status, duration, correlation id. Never bodies or headers. */
import type { FastifyReply } from 'fastify';
import type { Logger } from '@eventcast/platform';
import type { AppRequest } from './correlation.js';

/** The path of a request URL, without its query string. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Creates the Fastify `onResponse` hook that writes the line (duration from Fastify's `reply.elapsedTime`, ms). */
export function requestLogHook(logger: Logger) {
  return (req: AppRequest, reply: FastifyReply, done: () => void): void => {
    logger.info(
      {
        correlationId: req.correlationId,
        method: req.method,
        path: pathOf(req.url),
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        accountId: req.account?.id,
      },
      'http request',
    );
    done();
  };
}
