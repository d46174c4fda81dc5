/**
 * API rate limits of command-api (issue 13 item 10; README "Rate limits", docs/contracts.md "Rate limits"): every HTTP
 * route belongs to a budget — `auth` (register, login, password change: they take a password), `api` (every other
 * route but health, readiness and metrics) or a budget of its own named by the route — counted per
 * client address in fixed windows, shared by every command-api process through Redis. Answers carry the rate-limit
 * header fields of the IETF HTTPAPI draft (draft-ietf-httpapi-ratelimit-headers, the `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` form also sent by express-rate-limit's `draft-6`) and `RateLimit-Policy`;
 * a refused request is `429` with `Retry-After` (seconds, RFC 9110 §10.2.3). Browser-safe.
 */

/** A budget: `limit` requests per `windowSeconds` per client address. */
export interface RateLimitBudget {
  limit: number;
  windowSeconds: number;
}

/** The named budgets. */
export type RateLimitBudgetName = 'auth' | 'api';

/**
 * Defaults: `auth` 100 per 15 minutes per client (the API limit of one of the stacks in shared/seeds, 002: "100 req/15min"),
 * `api` 1,200 per minute (20/s on
 * average; the chat's own per-user limits apply on top).
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitBudgetName, RateLimitBudget>> = {
  auth: { limit: 100, windowSeconds: 900 },
  api: { limit: 1200, windowSeconds: 60 },
};

/** Response header names. */
export const RATE_LIMIT_HEADERS = {
  limit: 'RateLimit-Limit',
  remaining: 'RateLimit-Remaining',
  /** Seconds until the window resets. */
  reset: 'RateLimit-Reset',
  /** `<limit>;w=<window seconds>` (the draft's quota policy). */
  policy: 'RateLimit-Policy',
  retryAfter: 'Retry-After',
} as const;

/** "15 minutes", "1 minute", "30 seconds", "2 hours": a window in words. */
export function windowInWords(seconds: number): string {
  const unit = (n: number, what: string) => `${n === 1 ? '' : `${n} `}${what}${n === 1 ? '' : 's'}`;
  if (seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return unit(seconds / 60, 'minute');
  return unit(seconds, 'second');
}

/**
 * The sentence of a refused request, e.g. "Too many sign-in and sign-up attempts from your network: 100 per 15 minutes
 * are allowed. Try again in 42 seconds." (`auth`) or "Too many requests from your network: 1200 per minute are
 * allowed. Try again in 3 seconds." (other budgets).
 * @param retryAfterSeconds the `Retry-After` value (≥ 1).
 */
export function rateLimitedMessage(budget: RateLimitBudget, retryAfterSeconds: number, auth: boolean): string {
  const s = Math.max(1, Math.ceil(retryAfterSeconds));
  const what = auth ? 'sign-in and sign-up attempts' : 'requests';
  return `Too many ${what} from your network: ${budget.limit} per ${windowInWords(budget.windowSeconds)} are allowed. Try again in ${s} second${s === 1 ? '' : 's'}.`;
}

/** Budgets as configured: the named ones and per-route overrides keyed by `<METHOD> <route path>`. */
export interface RateLimitConfig {
  budgets: Record<RateLimitBudgetName, RateLimitBudget>;
  /** e.g. `'POST /channels/:username/chat/messages'` → its own budget. */
  routes: Record<string, RateLimitBudget>;
}

const ENTRY = /^\s*(auth|api|(?:GET|POST|PUT|PATCH|DELETE) \/[^=\s]*)\s*=\s*(\d{1,9})\s*\/\s*(\d{0,6})\s*([smh])\s*$/;

/**
 * Parses `RATE_LIMITS`: comma-separated `<budget>=<limit>/<window>` entries, the budget `auth`, `api` or a route
 * (`POST /channels/:username/chat/messages`, the path as the API documents it), the window a number (default 1) and
 * `s`, `m` or `h`: e.g. `auth=100/15m, api=1200/1m, POST /clips=30/1h`. Unset budgets keep {@link DEFAULT_RATE_LIMITS}.
 * @throws {Error} naming the first malformed entry, a zero limit or a zero window.
 */
export function parseRateLimits(raw: string | undefined): RateLimitConfig {
  const config: RateLimitConfig = { budgets: { ...DEFAULT_RATE_LIMITS }, routes: {} };
  for (const entry of (raw ?? '').split(',').filter((e) => e.trim() !== '')) {
    const m = ENTRY.exec(entry);
    if (!m) throw new Error(`invalid configuration: RATE_LIMITS entry "${entry.trim()}" is not <auth|api|METHOD /path>=<limit>/<window><s|m|h>`);
    const [, name, limit, count, unit] = m as unknown as [string, string, string, string, 's' | 'm' | 'h'];
    const windowSeconds = (count === '' ? 1 : Number(count)) * { s: 1, m: 60, h: 3600 }[unit];
    if (Number(limit) < 1 || windowSeconds < 1) throw new Error(`invalid configuration: RATE_LIMITS entry "${entry.trim()}" needs a limit and a window of at least 1`);
    const budget = { limit: Number(limit), windowSeconds };
    if (name === 'auth' || name === 'api') config.budgets[name] = budget;
    else config.routes[name] = budget;
  }
  return config;
}
