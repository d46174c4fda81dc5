/**
 * Structured JSON logging (pino). One logger per process, `service` bound on every line; child loggers add
 * `correlationId` and the like. Secrets are redacted by path.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Creates the process logger writing JSON lines to stdout. Level from `LOG_LEVEL` (default `info`). */
export function createLogger(service: string): Logger {
  return pino({
    level: process.env['LOG_LEVEL'] ?? 'info',
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password',
        '*.password',
        'currentPassword',
        '*.currentPassword',
        'newPassword',
        '*.newPassword',
        'streamKey',
        '*.streamKey',
        'token',
        '*.token',
        'refreshToken',
        '*.refreshToken',
        'headers.authorization',
        'req.headers.authorization',
        'headers.cookie',
        'req.headers.cookie',
        'headers["set-cookie"]',
        'res.headers["set-cookie"]',
      ],
      censor: '[redacted]',
    },
    formatters: { level: (label) => ({ level: label }) },
  });
}
