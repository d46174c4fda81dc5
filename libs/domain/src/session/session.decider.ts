/**
 * The sign-in session aggregate (stream `session-<sessionId>`): one refresh-token family in the sense of the OAuth 2.0
 * Security Best Current Practice (RFC 9700 §4.14.2, refresh token rotation): every refresh exchanges the current
 * refresh token for a new one, and presenting a token that was already exchanged revokes the whole family (the
 * legitimate client and an attacker holding a stolen copy cannot both go on).
 *
 * Tokens are identified by their counter (0 at sign-in, +1 per rotation); the command side proves a presented token
 * was issued by this platform (a MAC, command-api sessions/) before it reaches this decider, so a counter below the
 * current one is a real reuse, never a forgery.
 */
import { REFRESH_REUSE_GRACE_SECONDS } from '@eventcast/contracts';
import type { SessionEndReason } from '@eventcast/events';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';

export type SessionCommand =
  /** Opens a session at sign-in; `generation` is the account's current "log out everywhere" generation. */
  | { type: 'StartSession'; sessionId: string; accountId: string; generation: number; expiresAt: Date }
  /**
   * Rotates the refresh token of counter `counter` (the one presented). `accountGeneration` is the account's current
   * generation; `now` the decision time; `expiresAt` the new idle expiry.
   */
  | { type: 'RefreshSession'; counter: number; accountGeneration: number; now: Date; expiresAt: Date }
  /** Ends the session (its holder logged out). Nothing is recorded when it has ended already. */
  | { type: 'EndSession'; reason: Extract<SessionEndReason, 'logout'> };

export type SessionEvent = EventOf<'SessionStarted' | 'SessionRefreshed' | 'SessionEnded'>;

export type SessionState =
  | { status: 'none' }
  | {
      status: 'active' | 'ended';
      sessionId: string;
      accountId: string;
      generation: number;
      /** Counter of the current refresh token. */
      counter: number;
      /** Idle expiry, ms since the epoch. */
      expiresAtMs: number;
      /** When the current token was issued by a rotation (ms since the epoch); null before the first. */
      rotatedAtMs: number | null;
      /** Why it ended (`ended` only). */
      endReason: SessionEndReason | null;
    };

function started(state: SessionState): Exclude<SessionState, { status: 'none' }> {
  if (state.status === 'none') throw new DomainError('session_not_found', 'no such session');
  return state;
}

/**
 * Decider of the session aggregate. Errors (all mean "sign in again"): `session_not_found`, `session_exists`,
 * `session_ended` (logged out or revoked before), `session_expired` (idle expiry passed), `session_revoked` (the account
 * logged out everywhere after it started), `refresh_token_invalid` (a counter above the current one: never issued).
 * A reused token is not an error of the decision: it records `SessionEnded` `refresh_token_reused`, and the caller
 * refuses the request after the append. The token just rotated out, presented within `REFRESH_REUSE_GRACE_SECONDS` of
 * its rotation, records nothing: the caller answers with the current token again (the rotation's reply was lost).
 */
export const sessionDecider: Decider<SessionCommand, SessionEvent, SessionState> = {
  initialState: () => ({ status: 'none' }),

  decide(command, state) {
    switch (command.type) {
      case 'StartSession': {
        if (state.status !== 'none') throw new DomainError('session_exists', 'session already started');
        const { sessionId, accountId, generation } = command;
        return [{ type: 'SessionStarted', data: { sessionId, accountId, generation, expiresAt: command.expiresAt.toISOString() } }];
      }
      case 'RefreshSession': {
        const s = started(state);
        if (s.status === 'ended') throw new DomainError('session_ended', 'this session has ended: sign in again');
        const { sessionId, accountId } = s;
        if (command.counter > s.counter) throw new DomainError('refresh_token_invalid', 'unknown refresh token');
        const now = command.now.getTime();
        // The reply of the last rotation was lost (RFC 9700 leaves the leeway to the server; Okta/Auth0 "grace period").
        const lostReply = command.counter === s.counter - 1 && s.rotatedAtMs !== null && now - s.rotatedAtMs < REFRESH_REUSE_GRACE_SECONDS * 1000;
        if (command.counter < s.counter && !lostReply) return [{ type: 'SessionEnded', data: { sessionId, accountId, reason: 'refresh_token_reused' } }];
        if (s.generation < command.accountGeneration) throw new DomainError('session_revoked', 'this account logged out everywhere: sign in again');
        if (now >= s.expiresAtMs) throw new DomainError('session_expired', 'this session has expired: sign in again');
        if (lostReply) return [];
        return [{ type: 'SessionRefreshed', data: { sessionId, accountId, counter: s.counter + 1, expiresAt: command.expiresAt.toISOString(), refreshedAt: command.now.toISOString() } }];
      }
      case 'EndSession': {
        const s = started(state);
        if (s.status === 'ended') return [];
        return [{ type: 'SessionEnded', data: { sessionId: s.sessionId, accountId: s.accountId, reason: command.reason } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'SessionStarted':
        return {
          status: 'active',
          sessionId: event.data.sessionId,
          accountId: event.data.accountId,
          generation: event.data.generation,
          counter: 0,
          expiresAtMs: Date.parse(event.data.expiresAt),
          rotatedAtMs: null,
          endReason: null,
        };
      case 'SessionRefreshed': {
        const s = started(state);
        return { ...s, counter: event.data.counter, expiresAtMs: Date.parse(event.data.expiresAt), rotatedAtMs: Date.parse(event.data.refreshedAt) };
      }
      case 'SessionEnded': {
        const s = started(state);
        return { ...s, status: 'ended', endReason: event.data.reason };
      }
      default:
        return assertNever(event);
    }
  },
};
