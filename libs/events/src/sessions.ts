/**
 * Sign-in sessions (issue 13 item 1; docs/contracts.md "Sessions"): one stream per session (`session-<sessionId>`,
 * the refresh-token family of the OAuth 2.0 Security BCP, RFC 9700 §4.14), and on the account stream the
 * "log out everywhere" generation.
 * - `SessionStarted`: a sign-in (register or login) opened a session; its refresh token has counter 0.
 * - `SessionRefreshed`: the refresh token of counter `counter - 1` was exchanged for the one of `counter` (rotation);
 *   the session's idle expiry moved to `expiresAt`. For `REFRESH_REUSE_GRACE_SECONDS` after `refreshedAt` the
 *   previous token is answered with the current one again (its reply was lost: a tab closed mid-refresh), not revoked.
 * - `SessionEnded`: the session can no longer be refreshed: `logout` (its holder logged out), `refresh_token_reused`
 *   (a rotated-out refresh token was presented again: the whole family is revoked, RFC 9700 §4.14.2).
 * - `AllSessionsEnded` (stream `account-<accountId>`): "log out everywhere" — every session started before it (with a
 *   lower `generation`) is refused from now on.
 * No token or token hash is recorded: refresh tokens are MACs over `<sessionId>.<counter>` (command-api, sessions/),
 * so the counter alone tells the current token from a rotated-out one.
 */
import { z } from 'zod';

const uuid = z.uuid();
const iso = z.iso.datetime({ offset: true });

/** Why a session ended. */
export const sessionEndReasonSchema = z.enum(['logout', 'refresh_token_reused']);
export type SessionEndReason = z.infer<typeof sessionEndReasonSchema>;

export const sessionEventSchemas = {
  SessionStarted: z.object({
    sessionId: uuid,
    accountId: uuid,
    /** The account's "log out everywhere" generation when the session started (0 before the first). */
    generation: z.number().int().nonnegative(),
    /** Idle expiry: the refresh token is refused after it unless refreshed before (ISO-8601). */
    expiresAt: iso,
  }),
  SessionRefreshed: z.object({
    sessionId: uuid,
    accountId: uuid,
    /** Counter of the refresh token issued now (the previous one, `counter - 1`, is rotated out). */
    counter: z.number().int().positive(),
    expiresAt: iso,
    /** When the rotation was decided (ISO-8601): the previous token is still answered for a short grace after it. */
    refreshedAt: iso,
  }),
  SessionEnded: z.object({ sessionId: uuid, accountId: uuid, reason: sessionEndReasonSchema }),
  AllSessionsEnded: z.object({
    accountId: uuid,
    /** The account's new generation: sessions started with a lower one are refused. */
    generation: z.number().int().positive(),
  }),
};
