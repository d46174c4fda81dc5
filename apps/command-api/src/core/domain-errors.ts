/**
 * How domain refusals map to HTTP statuses: `*_not_found` → 404, conflicts with existing state → 409, the chat codes
 * of docs/chat.md → 429 (wait and retry), 403 (not allowed) or 400 (bad message), bad chat input → 400, any other
 * broken rule → 422. The DomainError's message is shown as is (it never contains secrets).
 */
import { DomainError } from '@eventcast/domain';

const CONFLICTS = new Set(['username_taken', 'username_reserved', 'account_exists', 'already_live', 'emote_exists', 'token_exists', 'too_many_tokens', 'webhook_exists', 'too_many_webhooks', 'restream_target_exists', 'too_many_restream_targets']);
const TOO_MANY = new Set(['rate_limited', 'slow_mode', 'timed_out']);
const FORBIDDEN = new Set(['banned', 'forbidden', 'followers_only', 'chat_disabled', 'emote_only', 'blocked_term', 'cannot_follow_self']);
const BAD_REQUEST = new Set(['invalid_request', 'empty', 'too_long', 'invalid_duration', 'invalid_settings', 'invalid_terms', 'invalid_emote', 'emote_too_large']);

/**
 * The chat codes of docs/chat.md (and `forbidden`): HTTP error bodies carry them in `code` and `message`, plus
 * `retryAfterMs` when known.
 */
export const CHAT_ERROR_CODES: ReadonlySet<string> = new Set([...TOO_MANY, ...FORBIDDEN, 'empty', 'too_long', 'invalid_request']);

/** Chat codes whose body keeps the DomainError's own message (the reason) instead of repeating the code. */
export const CHAT_CODES_WITH_REASON: ReadonlySet<string> = new Set(['invalid_request']);

/** HTTP status of a domain error code. */
export function statusOfDomainError(error: DomainError): number {
  if (error.code.endsWith('_not_found')) return 404;
  if (CONFLICTS.has(error.code)) return 409;
  if (TOO_MANY.has(error.code)) return 429;
  if (FORBIDDEN.has(error.code)) return 403;
  if (BAD_REQUEST.has(error.code)) return 400;
  return 422;
}

export { DomainError };
