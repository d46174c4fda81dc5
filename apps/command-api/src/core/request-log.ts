/** One JSON log line per HTTP request: method, path (no query string), status, duration, correlation id. Never bodies or headers. */
import type { NextFunction, Response } from 'express';
import type { Logger } from '@eventcast/platform';
import type { AppRequest } from './correlation.js';

/** Creates the express middleware. */
export function requestLogMiddleware(logger: Logger) {
  return (req: AppRequest, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.info(
        { correlationId: req.correlationId, method: req.method, path: req.path, status: res.statusCode, durationMs: Math.round(ms * 10) / 10, accountId: req.account?.id },
        'http request',
      );
    });
    next();
  };
}
