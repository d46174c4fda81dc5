/**
 * The sign-in/sign-up budget of command-api (README, "Auth throttling"): every client IP may make
 * {@link AUTH_ATTEMPTS_PER_MINUTE} attempts per {@link AUTH_THROTTLE_WINDOW_SECONDS}-second window, shared by
 * `POST /auth/login` and `POST /auth/register` (command-api's `AUTH_RATE_LIMIT_PER_MINUTE` changes the number).
 * Over budget: `429 Too Many Requests` with the standard `Retry-After` header (seconds, RFC 9110 §10.2.3) and the
 * message of {@link authThrottledMessage}. Browser-safe.
 */

/** Default attempts per IP and window (login and register together). */
export const AUTH_ATTEMPTS_PER_MINUTE = 20;

/** Length of the window (seconds). */
export const AUTH_THROTTLE_WINDOW_SECONDS = 60;

/**
 * The sentence a refused attempt answers, e.g. "Too many sign-in and sign-up attempts from your network: 20 per
 * minute are allowed. Try again in 42 seconds."
 * @param limit attempts allowed per window.
 * @param retryAfterSeconds seconds until the next attempt may succeed (≥ 1; the `Retry-After` value).
 */
export function authThrottledMessage(limit: number, retryAfterSeconds: number): string {
  const s = Math.max(1, Math.ceil(retryAfterSeconds));
  return `Too many sign-in and sign-up attempts from your network: ${limit} per minute are allowed. Try again in ${s} second${s === 1 ? '' : 's'}.`;
}
