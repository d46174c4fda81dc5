/**
 * Uniform error bodies `{ statusCode, error, message }` (plus `code` and its string facts when the exception gives a code) for every failure, including unknown routes and
 * unexpected errors (logged, never leaked: a 500 says only "Internal Server Error"). A lost or refused database
 * connection (`isStoreUnavailableError` of @eventcast/event-store, as command-api uses it) is a 503 with
 * `Retry-After: 1` and a reason, logged as a warning: PostgreSQL restarting is a state, not a fault.
 */
import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { isStoreUnavailableError } from '@eventcast/event-store';
import { bodyParserClientError, type Logger } from '@eventcast/platform';

interface JsonResponse {
  status(code: number): JsonResponse;
  json(body: unknown): void;
  setHeader(name: string, value: string): unknown;
  headersSent?: boolean;
}

/**
 * `Retry-After` (seconds, RFC 9110 §10.2.3) of a 503 while the database cannot be reached: a restart or failover
 * usually ends within seconds, and the pools reconnect by themselves (the same value as command-api's).
 */
export const DATABASE_UNAVAILABLE_RETRY_AFTER_S = 1;

function reasonPhrase(status: number): string {
  const name = HttpStatus[status];
  return typeof name === 'string'
    ? name
        .toLowerCase()
        .split('_')
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join(' ')
    : 'Error';
}

/** Global filter writing `{ statusCode, error, message }`. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  /** @param logger receives 5xx errors with their stack (warnings for deliberate 503s and the like). */
  constructor(private readonly logger: Logger) {}

  /** Maps `exception` to a JSON error response. */
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<JsonResponse>();
    let statusCode = 500;
    let message = 'Internal Server Error';
    let extra: Record<string, string> = {};
    if (exception instanceof HttpException) {
      statusCode = exception.getStatus();
      const body = exception.getResponse();
      const m = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
      message = Array.isArray(m) ? m.map(String).join('; ') : typeof m === 'string' ? m : exception.message;
      // A machine-readable `code` and its string facts (e.g. read-your-writes' `minPosition`, `position`) pass through.
      if (typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string') {
        extra = Object.fromEntries(Object.entries(body).filter(([k, v]) => typeof v === 'string' && k !== 'error' && k !== 'message'));
      }
    } else if (isStoreUnavailableError(exception)) {
      statusCode = 503;
      message = 'the database is unreachable right now; retry shortly';
      this.logger.warn({ err: exception instanceof Error ? exception.message : String(exception) }, 'database unavailable');
      if (res.headersSent !== true) res.setHeader('Retry-After', String(DATABASE_UNAVAILABLE_RETRY_AFTER_S));
      res.status(statusCode).json({ statusCode, error: reasonPhrase(statusCode), message });
      return;
    } else {
      // A body the parser refused (malformed or oversize JSON, even on a GET): the client's error, in words.
      const parserError = bodyParserClientError(exception);
      if (parserError) ({ status: statusCode, message } = parserError);
    }
    // A 5xx the app answers on purpose (an HttpException, e.g. the readiness probe's 503 while a projection lags) is
    // a state, not a fault: a warning without the stack. Anything else (a bug, a database error) is an error.
    if (statusCode >= 500 && exception instanceof HttpException && statusCode !== 500) this.logger.warn({ statusCode, message }, 'request refused');
    else if (statusCode >= 500) this.logger.error({ err: exception }, 'request failed');
    res.status(statusCode).json({ statusCode, error: reasonPhrase(statusCode), message, ...extra });
  }
}
