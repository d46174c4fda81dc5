/**
 * Idempotent commands (issue 9 item 11): the `Idempotency-Key` request header of the HTTP commands
 * (IETF draft-ietf-httpapi-idempotency-key-header-06) and the `nonce` of the WebSocket `chat.send`, forwarded to the
 * command side in the NATS `chat.send` request. docs/contracts.md "Idempotency" is the prose of this module.
 */
import { z } from './zod.js';

/** Request header naming one attempt of a command; retries send the same value (draft §2). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Response header set to `true` on a replayed response (the first response of that key, returned again). */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** Longest key, in characters (Stripe's limit; the draft sets none). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * How long a key is remembered after its first use, in seconds (24 h; draft §2.4 leaves the window to the server and
 * asks it to publish it). A key reused later is a new command.
 */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

/**
 * HTTP error codes (the `code` field of the error body) of the idempotency layer:
 * - `invalid_idempotency_key` (400): empty, longer than {@link IDEMPOTENCY_KEY_MAX_LENGTH} or not printable ASCII;
 * - `idempotency_key_in_flight` (409): the first request with this key is still being processed (draft §2.7);
 * - `idempotency_key_reused` (422): the key was used with a different request (method, path or body; draft §2.7).
 */
export const IDEMPOTENCY_ERROR_CODES = ['invalid_idempotency_key', 'idempotency_key_in_flight', 'idempotency_key_reused'] as const;
/** One of {@link IDEMPOTENCY_ERROR_CODES}. */
export type IdempotencyErrorCode = (typeof IDEMPOTENCY_ERROR_CODES)[number];

/** A key: 1–255 printable ASCII characters (space to `~`). */
export const idempotencyKeySchema = z
  .string()
  .min(1, 'Idempotency-Key must not be empty')
  .max(IDEMPOTENCY_KEY_MAX_LENGTH, `Idempotency-Key must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`)
  .regex(/^[\x20-\x7e]+$/, 'Idempotency-Key must be printable ASCII');

/**
 * Reads the header value. The draft defines it as a Structured Field String (RFC 8941 §3.3.3, e.g.
 * `"8e03978e-40d5-43e8-bc93-6894a57f9324"`); a bare token (what most clients send) is accepted too. In the quoted
 * form `\"` and `\\` are unescaped; any other escape is refused.
 * @returns the key, or an error message for a 400 `invalid_idempotency_key`.
 */
export function parseIdempotencyKey(raw: string): { ok: true; key: string } | { ok: false; message: string } {
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) {
    const inner = key.slice(1, -1);
    if (/\\[^"\\]|\\$|(?<!\\)"/.test(inner)) return { ok: false, message: 'Idempotency-Key is not a valid structured-field string' };
    key = inner.replace(/\\(["\\])/g, '$1');
  }
  const parsed = idempotencyKeySchema.safeParse(key);
  return parsed.success ? { ok: true, key: parsed.data } : { ok: false, message: parsed.error.issues[0]?.message ?? 'invalid Idempotency-Key' };
}

/** Longest WebSocket `chat.send` `nonce`, in characters. */
export const CHAT_NONCE_MAX_LENGTH = 64;

/**
 * The `nonce` of a `chat.send` frame, forwarded as `nonce` in the NATS `chat.send` request: per sender, it names one
 * message, so a resend with the same nonce (after a timeout or a reconnect) is appended at most once within
 * {@link IDEMPOTENCY_WINDOW_SECONDS}. Clients must make it unguessable and never reuse it for another message
 * (the web client uses `crypto.randomUUID()`).
 */
export const chatNonceSchema = z
  .string()
  .min(1, `nonce must be a string of 1-${CHAT_NONCE_MAX_LENGTH} characters`)
  .max(CHAT_NONCE_MAX_LENGTH, `nonce must be a string of 1-${CHAT_NONCE_MAX_LENGTH} characters`);
