/**
 * `Idempotency-Key` on the HTTP commands (IETF draft-ietf-httpapi-idempotency-key-header-06; docs/contracts.md
 * "Idempotency"). Put {@link Idempotent} on a controller (or route) of authenticated commands:
 * - no header → the request runs as before;
 * - a malformed key → 400 `invalid_idempotency_key`;
 * - first use → the command runs with `req.commandId` = a UUID derived from (principal, key) (event metadata
 *   `commandId`, from which the chat rooms derive event ids), and its response is stored for 24 h unless it says
 *   "try again" ({@link isFinalStatus});
 * - same key, same request (method, path, body) → the stored response again (status and body), with
 *   `Idempotent-Replayed: true`; while the first is still running → 409 `idempotency_key_in_flight`;
 * - same key, another request → 422 `idempotency_key_reused`.
 * The principal is the API token (`token:<id>`) or the signed-in account (`account:<id>`), so keys of different
 * clients never meet. Guards run before interceptors, so `req.account` is set here.
 */
import { applyDecorators, BadRequestException, HttpException, Inject, Injectable, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { catchError, from, mergeMap, type Observable, of, throwError } from 'rxjs';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, parseIdempotencyKey, type IdempotencyErrorCode } from '@eventcast/contracts';
import { jsonDepthExceeds, MAX_JSON_DEPTH, type Logger } from '@eventcast/platform';
import type { AppRequest } from '../core/correlation.js';
import { toErrorBody, type ErrorBody } from '../core/http-exception.filter.js';
import { LOGGER } from '../core/tokens.js';
import type { ApiTokenRequest } from '../integrations/api-token-authenticator.js';
import { commandIdOf } from './command-ids.js';
import { IdempotencyStore, sha256Hex, type IdempotencyRecordRef } from './idempotency-store.js';

/** A stored HTTP response. */
interface StoredResponse {
  status: number;
  body: unknown;
}

/** The request as this interceptor sees it. */
type IdempotentRequest = ApiTokenRequest & AppRequest & { commandId?: string };

/**
 * True when a response is kept and replayed: everything but "try again" answers — 5xx, 408, 409 (concurrency),
 * 425, 429 and any error with `retryAfterMs` — after which nothing was decided, so a retry must run again.
 */
export function isFinalStatus(status: number, retryAfterMs?: number): boolean {
  if (status >= 500 || retryAfterMs !== undefined) return false;
  return ![408, 409, 425, 429].includes(status);
}

/** JSON with object keys sorted, so that key order does not change a request's fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** An idempotency error as the HTTP error body (`code` as the chat refusals carry it). */
function idempotencyError(status: number, code: IdempotencyErrorCode, message: string): HttpException {
  const body: ErrorBody & { code: IdempotencyErrorCode } = { ...toErrorBody(new HttpException(message, status)), code };
  return new HttpException(body, status);
}

/** The interceptor; see the module comment. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly records: IdempotencyStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Claims, replays or refuses; see the module comment. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<IdempotentRequest>();
    const res = http.getResponse<FastifyReply>();
    const raw = req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
    const principal = req.apiToken ? `token:${req.apiToken.tokenId}` : req.account ? `account:${req.account.id}` : undefined;
    if (raw === undefined || principal === undefined) return next.handle();
    const parsed = parseIdempotencyKey(Array.isArray(raw) ? raw.join(',') : raw);
    if (!parsed.ok) return throwError(() => idempotencyError(400, 'invalid_idempotency_key', parsed.message));
    const key = parsed.key;
    // The request: method, path without the query's order mattering little (kept as sent), and the parsed body.
    // canonicalJson recurses per level: a body too deep for the validation pipe is refused here first (it runs later).
    if (jsonDepthExceeds(req.body)) return throwError(() => new BadRequestException(`JSON body nests deeper than ${MAX_JSON_DEPTH} levels`));
    const fingerprint = sha256Hex(req.method, req.originalUrl, canonicalJson(req.body ?? null));
    const scope = `http:${principal}`;
    return from(this.records.begin<StoredResponse>(scope, key, fingerprint)).pipe(
      mergeMap((claim) => {
        switch (claim.state) {
          case 'mismatch':
            return throwError(() => idempotencyError(422, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request'));
          case 'in_flight':
            return throwError(() => idempotencyError(409, 'idempotency_key_in_flight', 'a request with this Idempotency-Key is still being processed; retry later'));
          case 'replay':
            res.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
            // A stored refusal leaves through the exception filter, which writes its status and body (with `code` and
            // `reason`): returned as a value, it would be sent with whatever status the route's reply sets.
            if (claim.response.status >= 400) return throwError(() => new HttpException(claim.response.body as Record<string, unknown>, claim.response.status));
            res.status(claim.response.status);
            return of(claim.response.body);
          case 'claimed':
            req.commandId = commandIdOf('http', principal, key);
            return this.run(claim.record, next, res);
        }
      }),
    );
  }

  /** Runs the command and records its response (or releases the key when it says "try again"). */
  private run(record: IdempotencyRecordRef, next: CallHandler, res: FastifyReply): Observable<unknown> {
    return next.handle().pipe(
      mergeMap((body: unknown) => from(this.settle(record, { status: res.statusCode, body }).then(() => body))),
      catchError((err: unknown) => {
        const out = toErrorBody(err);
        const stored: StoredResponse = { status: out.statusCode, body: out };
        return from(this.settle(record, isFinalStatus(out.statusCode, out.retryAfterMs) ? stored : null)).pipe(mergeMap(() => throwError(() => err)));
      }),
    );
  }

  /** Completes the record with `response`, or releases it (`null`). Failures are logged, never thrown. */
  private async settle(record: IdempotencyRecordRef, response: StoredResponse | null): Promise<void> {
    try {
      if (response && isFinalStatus(response.status)) await this.records.complete(record, response);
      else await this.records.release(record);
    } catch (err) {
      // The command's outcome stands; the record stays in flight until its lock lapses (a retry then runs again and
      // the derived event ids refuse a second append).
      this.logger.warn({ err, scope: record.scope }, 'idempotency record not updated');
    }
  }
}

/** Makes a controller's (or a route's) commands honour `Idempotency-Key`. */
export function Idempotent(): ClassDecorator & MethodDecorator {
  return applyDecorators(UseInterceptors(IdempotencyInterceptor));
}
