/**
 * Read-your-writes on every read route (ARCHITECTURE.md invariant 8; contract: libs/contracts/src/read-your-writes.ts,
 * docs/contracts.md "Read-your-writes"): a GET with `?minPosition=P` (or the `Eventcast-Min-Position` header) waits,
 * bounded, until the read models have reached P; every GET answer says the position it reflects in `Eventcast-Position`.
 * Runs after the guards (an unauthenticated read is refused without waiting). Routes that read no read model opt out
 * with {@link SkipReadPosition} (health probes) or are the platform's metrics controller.
 */
import {
  BadRequestException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, switchMap, type Observable } from 'rxjs';
import {
  INVALID_MIN_POSITION_CODE,
  MIN_POSITION_HEADER,
  MIN_POSITION_PARAM,
  parseMinPosition,
  POSITION_HEADER,
  POSITION_NOT_REACHED_CODE,
  POSITION_RETRY_AFTER_SECONDS,
  type PositionNotReachedBody,
} from '@eventcast/contracts';
import { MetricsController } from '@eventcast/platform/nest-metrics';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from './tokens.js';

const SKIP = 'eventcast:skip-read-position';

/** Marks a controller or handler that reads no read model: no wait, no `Eventcast-Position` header. */
export const SkipReadPosition = (): ClassDecorator & MethodDecorator => SetMetadata(SKIP, true);

/** The request fields read here (Express's, structurally). */
interface PositionRequest {
  method: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/** The response fields written here. */
interface PositionResponse {
  setHeader(name: string, value: string): unknown;
}

/** The 503 of a position not reached in time; its body is {@link PositionNotReachedBody}. */
export class PositionNotReachedException extends HttpException {
  /**
   * @param min the asked position.
   * @param position where the read models were when the wait ended.
   * @param waitedMs the bound that ran out.
   */
  constructor(min: bigint, position: bigint, waitedMs: number) {
    const body: PositionNotReachedBody = {
      statusCode: 503,
      error: 'Service Unavailable',
      code: POSITION_NOT_REACHED_CODE,
      message: `The read models have not reached global position ${min} within ${waitedMs} ms (they are at ${position}); retry in ${POSITION_RETRY_AFTER_SECONDS} s.`,
      minPosition: min.toString(),
      position: position.toString(),
    };
    super(body, HttpStatus.SERVICE_UNAVAILABLE);
  }
}

function single(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw new BadRequestException({ message: `${what} must be given once, as a global position`, code: INVALID_MIN_POSITION_CODE });
}

/**
 * Global interceptor implementing the read side of read-your-writes; see the module comment.
 * - malformed `minPosition` (query or header), or one beyond the event store's head (`runtime.storeHead`, cached
 *   ~100 ms and confirmed by a fresh read before refusing) → 400 `{ code: 'invalid_min_position', message }`;
 * - not reached within `QUERY_API_MAX_POSITION_WAIT_MS` → 503 + `Retry-After: 1` + {@link PositionNotReachedBody};
 * - otherwise the handler runs and the answer carries `Eventcast-Position: <position read before the handler>`.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(QUERY_API_RUNTIME) private readonly runtime: QueryApiRuntime,
  ) {}

  /** See the class comment. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<PositionRequest>();
    const tracker = this.runtime.readPosition;
    if (
      req.method !== 'GET' ||
      tracker === undefined ||
      context.getClass() === MetricsController ||
      this.reflector.getAllAndOverride<boolean>(SKIP, [context.getHandler(), context.getClass()]) === true
    ) {
      return next.handle();
    }
    let min: bigint | null;
    try {
      const q = parseMinPosition(single(req.query[MIN_POSITION_PARAM], MIN_POSITION_PARAM));
      const h = parseMinPosition(single(req.headers[MIN_POSITION_HEADER.toLowerCase()], MIN_POSITION_HEADER));
      min = q === null ? h : h === null || q > h ? q : h;
    } catch (err) {
      if (err instanceof HttpException) throw err;
      throw new BadRequestException({ message: (err as Error).message, code: INVALID_MIN_POSITION_CODE });
    }
    const res = context.switchToHttp().getResponse<PositionResponse>();
    const ready = async (): Promise<void> => {
      let position: bigint;
      if (min === null) position = await tracker.current();
      else {
        // A position the event log has not reached cannot be reached within the wait either: refuse it at once.
        const head = min > tracker.lastKnown ? await this.runtime.storeHead?.beyondHead(min) : null;
        if (head !== undefined && head !== null) {
          throw new BadRequestException({ message: `minPosition ${min} is beyond the event log's head (global position ${head})`, code: INVALID_MIN_POSITION_CODE });
        }
        const wait = await tracker.atLeast(min);
        if (!wait.reached) {
          res.setHeader('Retry-After', String(POSITION_RETRY_AFTER_SECONDS));
          res.setHeader(POSITION_HEADER, wait.position.toString());
          throw new PositionNotReachedException(min, wait.position, tracker.maxWaitMs);
        }
        position = wait.position;
      }
      res.setHeader(POSITION_HEADER, position.toString());
    };
    return from(ready()).pipe(switchMap(() => next.handle()));
  }
}
