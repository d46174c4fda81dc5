/**
 * API rate limits (issue 13 item 10; `@eventcast/contracts` rate-limits.ts, docs/contracts.md "Rate limits"):
 * @nestjs/throttler as the guard, its counters in Redis through rate-limiter-flexible (`RateLimiterRedis`, fixed
 * windows shared by every command-api process; an in-memory insurance limiter takes over while Redis is unreachable,
 * so an outage neither fails every request nor lifts the limits), and the IETF draft's `RateLimit-*` header fields.
 *
 * Budgets: a handler marked {@link RateLimitBudgetOf}`('auth')` counts in `auth`; a route listed by itself in
 * `RATE_LIMITS` (`POST /channels/:username/chat/messages=…`; HEAD counts as GET) has its own; every other HTTP route
 * counts in `api` (the session routes too), except `/health`, `/ready` and `/metrics`. NATS request handlers are not
 * HTTP and are not counted here (the edge limits its clients).
 */
import { Injectable, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerException, ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerModuleOptions, type ThrottlerRequest, type ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { DEFAULT_RATE_LIMITS, RATE_LIMIT_HEADERS, rateLimitedMessage, type RateLimitBudget, type RateLimitBudgetName, type RateLimitConfig } from '@eventcast/contracts';

const BUDGET = 'eventcast:rate-limit-budget';

/** Puts a handler (or controller) in a named budget; unmarked routes count in `api`. */
export const RateLimitBudgetOf = (name: RateLimitBudgetName): ClassDecorator & MethodDecorator => SetMetadata(BUDGET, name);

/** A route's budget: its name (the Redis key's part) and numbers. */
interface ResolvedBudget {
  key: string;
  budget: RateLimitBudget;
  auth: boolean;
}

/**
 * Resolves the budget of a request: a route override of `config.routes` (by `<METHOD> <route path>`), else the
 * handler's {@link RateLimitBudgetOf}, else `api`.
 */
export function budgetOf(context: ExecutionContext, reflector: Reflector, config: RateLimitConfig): ResolvedBudget {
  const req = context.switchToHttp().getRequest<FastifyRequest>();
  // The throttler asks for the limit, the window, the key and (on a 429) the message: resolved once per request.
  const known = resolved.get(req);
  if (known) return known;
  // Fastify answers HEAD with the GET route's handler: the same budget.
  const route = `${req.method === 'HEAD' ? 'GET' : req.method} ${req.routeOptions?.url ?? ''}`;
  const own = config.routes[route];
  let budget: ResolvedBudget;
  if (own) budget = { key: `route:${route}`, budget: own, auth: false };
  else {
    const name = reflector.getAllAndOverride<RateLimitBudgetName | undefined>(BUDGET, [context.getHandler(), context.getClass()]) ?? 'api';
    budget = { key: name, budget: config.budgets[name] ?? DEFAULT_RATE_LIMITS[name], auth: name === 'auth' };
  }
  resolved.set(req, budget);
  return budget;
}

/** Budgets already resolved, by request. */
const resolved = new WeakMap<object, ResolvedBudget>();

/** The in-memory insurance limiter, telling `notice` each time it stands in for Redis. */
class NoticedMemoryLimiter extends RateLimiterMemory {
  constructor(
    options: ConstructorParameters<typeof RateLimiterMemory>[0],
    private readonly notice: () => void,
  ) {
    super(options);
  }

  override consume(...args: Parameters<RateLimiterMemory['consume']>): ReturnType<RateLimiterMemory['consume']> {
    this.notice();
    return super.consume(...args);
  }
}

/**
 * @nestjs/throttler storage on Redis (rate-limiter-flexible): one `RateLimiterRedis` per (limit, window), keys
 * `<prefix>:<limit>/<window>:<budget>:<client>`. While Redis is unreachable each process counts in memory instead.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly limiters = new Map<string, RateLimiterRedis>();
  /** When {@link onFallback} was last called (ms): at most once a minute. */
  private lastFallbackNotice = 0;

  /**
   * @param redis the client (made with `enableOfflineQueue: false` and a `commandTimeout`, so an outage or a hung server
   *   fails fast into the insurance limiter).
   * @param prefix key prefix: one per deployment (tests give each platform its own).
   * @param onFallback told (at most once a minute) that counting went local: any Redis error — unreachable, timed out, a
   *   refused command.
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onFallback: (err: unknown) => void = () => undefined,
  ) {}

  /** Calls {@link onFallback} at most once a minute. */
  private noticeFallback(): void {
    const now = Date.now();
    if (now - this.lastFallbackNotice < 60_000) return;
    this.lastFallbackNotice = now;
    this.onFallback(new Error(`Redis call failed (client ${this.redis.status})`));
  }

  /** Counts one hit of `key` in a window of `ttlMs`; see ThrottlerStorage. Times in the record are seconds. */
  async increment(key: string, ttlMs: number, limit: number, _blockMs: number, _name: string): Promise<{ totalHits: number; timeToExpire: number; isBlocked: boolean; timeToBlockExpire: number }> {
    const duration = Math.max(1, Math.ceil(ttlMs / 1000));
    const id = `${limit}/${duration}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${this.prefix}:${id}`,
        points: limit,
        duration,
        // rate-limiter-flexible's insurance: any Redis error counts this process in memory instead (and says so).
        insuranceLimiter: new NoticedMemoryLimiter({ points: limit, duration }, () => this.noticeFallback()),
      });
      this.limiters.set(id, limiter);
    }
    try {
      const r = await limiter.consume(key);
      return { totalHits: r.consumedPoints, timeToExpire: Math.ceil(r.msBeforeNext / 1000), isBlocked: false, timeToBlockExpire: 0 };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      return { totalHits: err.consumedPoints, timeToExpire: seconds, isBlocked: true, timeToBlockExpire: seconds };
    }
  }
}

/** The throttler options of command-api: one `default` throttler whose numbers and key follow the route's budget. */
export function throttlerOptions(config: RateLimitConfig, storage: ThrottlerStorage, reflector: Reflector): ThrottlerModuleOptions {
  return {
    throttlers: [
      {
        name: 'default',
        limit: (ctx) => budgetOf(ctx, reflector, config).budget.limit,
        ttl: (ctx) => budgetOf(ctx, reflector, config).budget.windowSeconds * 1000,
      },
    ],
    storage,
    generateKey: (ctx, tracker) => `${budgetOf(ctx, reflector, config).key}:${tracker}`,
    errorMessage: (ctx, detail) => {
      const b = budgetOf(ctx, reflector, config);
      return rateLimitedMessage(b.budget, detail.timeToBlockExpire, b.auth);
    },
  };
}

/** Routes outside every budget: the orchestrator's probes and Prometheus. */
const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/** The request's window length (seconds), for `RateLimit-Policy`. */
const TTL = Symbol('eventcast.rateLimitWindow');

/**
 * The global guard: @nestjs/throttler's, for HTTP only, with the `RateLimit-*` header fields of the IETF draft instead
 * of `X-RateLimit-*`, `RateLimit-Policy` (`<limit>;w=<window>`), and the same fields (remaining 0) on a 429.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.headerPrefix = 'RateLimit';
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return Promise.resolve(true);
    return super.canActivate(context);
  }

  /** Probes and scrapes are never limited (`/health`, `/ready`, `/metrics`). */
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    const url = context.switchToHttp().getRequest<FastifyRequest>().routeOptions?.url;
    return Promise.resolve(url !== undefined && UNLIMITED_ROUTES.has(url));
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const res = context.switchToHttp().getResponse<FastifyReply>();
    void res.header(RATE_LIMIT_HEADERS.limit, detail.limit);
    void res.header(RATE_LIMIT_HEADERS.remaining, 0);
    void res.header(RATE_LIMIT_HEADERS.reset, detail.timeToBlockExpire);
    void res.header(RATE_LIMIT_HEADERS.policy, `${detail.limit};w=${Math.round(detail.ttl / 1000)}`);
    throw new ThrottlerException(await this.getErrorMessage(context, detail));
  }

  protected override setResponseHeader(res: FastifyReply, name: string, value: number): void {
    super.setResponseHeader(res, name, value);
    if (name === RATE_LIMIT_HEADERS.limit) {
      const ttl = (res.request as FastifyRequest & { [TTL]?: number })[TTL];
      if (ttl !== undefined) void res.header(RATE_LIMIT_HEADERS.policy, `${value};w=${ttl}`);
    }
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const req = props.context.switchToHttp().getRequest<FastifyRequest & { [TTL]?: number }>();
    req[TTL] = Math.round(props.ttl / 1000);
    return super.handleRequest(props);
  }
}

