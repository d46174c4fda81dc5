/**
 * The sign-in budget's sentence for a budget counted per minute (the deprecated `AUTH_RATE_LIMIT_PER_MINUTE` of
 * command-api). Budgets, defaults and the general sentence: rate-limits.ts. Browser-safe.
 */
import { rateLimitedMessage } from './rate-limits.js';

/**
 * The sentence a refused attempt answers under an `auth` budget of `limit` per minute, e.g. "Too many sign-in and
 * sign-up attempts from your network: 20 per minute are allowed. Try again in 42 seconds."
 * @param retryAfterSeconds seconds until the next attempt may succeed (≥ 1; the `Retry-After` value).
 */
export function authThrottledMessage(limit: number, retryAfterSeconds: number): string {
  return rateLimitedMessage({ limit, windowSeconds: 60 }, retryAfterSeconds, true);
}
