/**
 * Global HTTP exception filter: every error leaves as `{ statusCode, error, message }` (docs/contracts.md).
 * DomainError → 400/403/404/409/422/429 (chat codes also in `code`, with `retryAfterMs`), WrongExpectedRevisionError (after retries) → 409, DuplicateEventIdError (a command already recorded) → 409, InvalidEventError (input the event schemas refuse) → 400 `invalid_request`, Nest HttpExceptions keep their status,
 * malformed JSON bodies → 400, a lost or refused event-store connection → 503 with `Retry-After` (nothing was
 * appended; the client retries once the database is back), anything else → 500 "internal server error" (details only
 * in the log).
 */
import { ArgumentsHost, Catch, HttpException, HttpStatus, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DuplicateEventIdError, isStoreUnavailableError, WrongExpectedRevisionError } from '@eventcast/event-store';
import { moderationRefusalSchema, type ModerationRefusal } from '@eventcast/contracts';
import { InvalidEventError } from '@eventcast/events';
import { bodyParserClientError, type Logger } from '@eventcast/platform';
import type { AppRequest } from './correlation.js';
import { pathOf } from './request-log.js';
import { CHAT_CODES_WITH_REASON, CHAT_ERROR_CODES, DomainError, statusOfDomainError } from './domain-errors.js';

/** The error body of every failed HTTP request. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  /** Chat refusals only (docs/chat.md): the chat code, also in `message` (except `forbidden`, whose message says why). */
  code?: string;
  /** Refused moderation commands (`code: 'forbidden'`): why, a {@link ModerationRefusal} of @eventcast/contracts. */
  reason?: ModerationRefusal;
  /** Chat refusals `timed_out`, `slow_mode`, `rate_limited`: milliseconds until a retry may succeed. */
  retryAfterMs?: number;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * `Retry-After` (seconds, RFC 9110 §10.2.3) sent with a 503 when the event store is unreachable: the database is
 * usually back within seconds (a restart or failover), and every app reconnects by itself within a second of it.
 */
export const STORE_UNAVAILABLE_RETRY_AFTER_S = 1;

function body(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: REASONS[statusCode] ?? 'Error', message };
}

/** Message text of a Nest HttpException: its string response, or the `message` field (arrays joined by "; "). */
function httpMessage(e: HttpException): string {
  const r = e.getResponse();
  if (typeof r === 'string') return r;
  const m = (r as { message?: unknown }).message;
  if (Array.isArray(m)) return m.map(String).join('; ');
  return typeof m === 'string' ? m : e.message;
}

/**
 * `out` with the `code` of an HttpException's object response, when it has a string one (e.g. the idempotency codes),
 * and its `reason` when it is a {@link ModerationRefusal} (a refused moderation command replayed for its
 * Idempotency-Key keeps its whole body).
 */
function withCode(out: ErrorBody, response: unknown): ErrorBody {
  if (typeof response !== 'object' || response === null) return out;
  const { code, reason } = response as { code?: unknown; reason?: unknown };
  const refusal = reason === undefined ? undefined : moderationRefusalSchema.safeParse(reason);
  return {
    ...out,
    ...(typeof code === 'string' ? { code } : {}),
    ...(refusal?.success ? { reason: refusal.data } : {}),
  };
}

/**
 * A DomainError's body; chat codes (docs/chat.md) are given in `message` and `code`, with `retryAfterMs` when known.
 * A refused moderation command (`forbidden`) says why: the decider's sentence in `message` ("moderators cannot ban the
 * channel owner") and its refusal code in `reason` (@eventcast/contracts `ModerationRefusal`).
 */
function domainErrorBody(err: DomainError): ErrorBody {
  const status = statusOfDomainError(err);
  if (!CHAT_ERROR_CODES.has(err.code)) return body(status, err.message);
  if (err.code === 'forbidden') {
    const reason = moderationRefusalSchema.safeParse(err.details?.['reason']);
    return { ...body(status, err.message), code: err.code, ...(reason.success ? { reason: reason.data } : {}) };
  }
  const out: ErrorBody = { ...body(status, CHAT_CODES_WITH_REASON.has(err.code) ? err.message : err.code), code: err.code };
  if (err.retryAfterMs !== undefined) out.retryAfterMs = err.retryAfterMs;
  return out;
}

/** Maps any thrown value to an {@link ErrorBody}. Body-parser errors carry `status` and `type`. */
export function toErrorBody(err: unknown): ErrorBody {
  // Nest maps body-parser's SyntaxError to a 400 carrying the parser's message, which can quote the request body
  // (and so a password): never echo it.
  if (err instanceof HttpException && err.cause instanceof SyntaxError) return body(400, 'malformed JSON body');
  // Fastify's own request errors (content-type parser, body limit), which Nest wraps with the error as `cause`.
  const fastifyError = err instanceof HttpException ? bodyParserClientError(err.cause) : null;
  if (fastifyError) return body(fastifyError.status, fastifyError.message);
  if (err instanceof HttpException) return withCode(body(err.getStatus(), httpMessage(err)), err.getResponse());
  if (err instanceof DomainError) return domainErrorBody(err);
  if (err instanceof WrongExpectedRevisionError) return body(409, 'the resource was changed concurrently, please retry');
  // A command whose (derived) event ids are already stored, which no handler answered as "already done": a conflict
  // the client can inspect, never a 500.
  if (err instanceof DuplicateEventIdError) return body(409, 'this command was already recorded (its event ids are already stored); nothing was changed');
  // The event schemas are the last line of the text rule (issue 9): input that slipped past a DTO is still a 400.
  if (err instanceof InvalidEventError) return { ...body(400, `the request cannot be recorded: ${err.issues.join('; ') || err.message}`), code: 'invalid_request' };
  // Never echo the parser's message: it quotes the request body, which may hold a password.
  const parserError = bodyParserClientError(err);
  if (parserError) return body(parserError.status, parserError.message);
  if (isStoreUnavailableError(err)) return body(HttpStatus.SERVICE_UNAVAILABLE, 'the event store is unreachable; nothing was changed, retry shortly');
  return body(HttpStatus.INTERNAL_SERVER_ERROR, 'internal server error');
}

/** Catches everything thrown while serving an HTTP request. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  /** Writes the error body; logs 5xx errors with their stack (never the request body). */
  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<FastifyReply>();
    const req = ctx.getRequest<AppRequest>();
    const out = toErrorBody(exception);
    const unavailable = out.statusCode === 503 && isStoreUnavailableError(exception);
    if (unavailable) {
      // Expected while PostgreSQL restarts: one line without the stack.
      this.logger.warn({ err: (exception as Error).message, correlationId: req.correlationId, method: req.method, path: pathOf(req.url) }, 'event store unavailable');
    } else if (out.statusCode >= 500) {
      this.logger.error({ err: exception, correlationId: req.correlationId, method: req.method, path: pathOf(req.url) }, 'request failed');
    }
    if (res.sent) return;
    if (unavailable) void res.header('Retry-After', String(STORE_UNAVAILABLE_RETRY_AFTER_S));
    if (out.retryAfterMs !== undefined) void res.header('Retry-After', String(Math.ceil(out.retryAfterMs / 1000)));
    void res.status(out.statusCode).send(out);
  }
}
