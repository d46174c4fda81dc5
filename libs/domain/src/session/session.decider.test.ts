import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountDecider, type AccountEvent } from '../account/account.decider.js';
import { specFor } from '../specification.js';
import { sessionDecider, type SessionEvent } from './session.decider.js';

const spec = specFor(sessionDecider, assert.deepStrictEqual);
const sessionId = '5e550000-0000-4000-8000-000000000001';
const accountId = 'a0000000-0000-4000-8000-000000000001';
const in30d = new Date('2027-01-07T10:00:00.000Z');
const later = new Date('2026-12-08T10:15:00.000Z');
const laterExpiry = new Date('2027-01-07T10:15:00.000Z');

const started: SessionEvent = { type: 'SessionStarted', data: { sessionId, accountId, generation: 0, expiresAt: in30d.toISOString() } };
/** A rotation decided at `at` (default: `later`). */
const refreshed = (counter: number, at = later): SessionEvent => ({
  type: 'SessionRefreshed',
  data: { sessionId, accountId, counter, expiresAt: laterExpiry.toISOString(), refreshedAt: at.toISOString() },
});
/** Past the grace after a rotation at `later`. */
const afterGrace = new Date(later.getTime() + 31_000);
const refresh = (counter: number, overrides: { accountGeneration?: number; now?: Date } = {}) => ({
  type: 'RefreshSession' as const,
  counter,
  accountGeneration: overrides.accountGeneration ?? 0,
  now: overrides.now ?? later,
  expiresAt: laterExpiry,
});

describe('session decider (refresh-token rotation, RFC 9700 §4.14.2)', () => {
  it('starts a session once', () => {
    spec.given([]).when({ type: 'StartSession', sessionId, accountId, generation: 0, expiresAt: in30d }).then([started]);
    spec.given([started]).when({ type: 'StartSession', sessionId, accountId, generation: 0, expiresAt: in30d }).thenThrows('session_exists');
  });

  it('rotates the current refresh token and moves the idle expiry', () => {
    spec.given([started]).when(refresh(0)).then([refreshed(1)]);
    spec.given([started, refreshed(1)]).when(refresh(1, { now: afterGrace })).then([refreshed(2, afterGrace)]);
  });

  it('a rotated-out token presented again revokes the whole family', () => {
    const reused: SessionEvent = { type: 'SessionEnded', data: { sessionId, accountId, reason: 'refresh_token_reused' } };
    spec.given([started, refreshed(1)]).when(refresh(0, { now: afterGrace })).then([reused]);
    // an older token than the one just rotated out: no grace at all
    spec.given([started, refreshed(1), refreshed(2)]).when(refresh(0)).then([reused]);
    // …after which even the current token is refused
    spec.given([started, refreshed(1), reused]).when(refresh(1)).thenThrows('session_ended');
  });

  it('the token just rotated out, within 30 s of the rotation, gets the current one again (a lost reply): no event', () => {
    spec.given([started, refreshed(1)]).when(refresh(0, { now: new Date(later.getTime() + 29_000) })).then([]);
    // still subject to the other rules
    spec.given([started, refreshed(1)]).when(refresh(0, { accountGeneration: 1 })).thenThrows('session_revoked');
  });

  it('refuses a token never issued, an unknown or ended session, an expired one and one older than "log out everywhere"', () => {
    spec.given([started]).when(refresh(1)).thenThrows('refresh_token_invalid');
    spec.given([]).when(refresh(0)).thenThrows('session_not_found');
    const loggedOut: SessionEvent = { type: 'SessionEnded', data: { sessionId, accountId, reason: 'logout' } };
    spec.given([started, loggedOut]).when(refresh(0)).thenThrows('session_ended');
    spec.given([started]).when(refresh(0, { now: in30d })).thenThrows('session_expired');
    spec.given([started]).when(refresh(0, { accountGeneration: 1 })).thenThrows('session_revoked');
  });

  it('logging out ends the session once', () => {
    const loggedOut: SessionEvent = { type: 'SessionEnded', data: { sessionId, accountId, reason: 'logout' } };
    spec.given([started]).when({ type: 'EndSession', reason: 'logout' }).then([loggedOut]);
    spec.given([started, loggedOut]).when({ type: 'EndSession', reason: 'logout' }).then([]);
    spec.given([]).when({ type: 'EndSession', reason: 'logout' }).thenThrows('session_not_found');
  });
});

describe('account decider: log out everywhere', () => {
  const accounts = specFor(accountDecider, assert.deepStrictEqual);
  const registered: AccountEvent = { type: 'AccountRegistered', data: { accountId, username: 'alice', passwordHash: '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA' } };
  it('each "log out everywhere" records the next generation', () => {
    accounts.given([registered]).when({ type: 'EndAllSessions' }).then([{ type: 'AllSessionsEnded', data: { accountId, generation: 1 } }]);
    accounts
      .given([registered, { type: 'AllSessionsEnded', data: { accountId, generation: 1 } }])
      .when({ type: 'EndAllSessions' })
      .then([{ type: 'AllSessionsEnded', data: { accountId, generation: 2 } }]);
    accounts.given([]).when({ type: 'EndAllSessions' }).thenThrows('account_not_found');
  });

  it('a password change records the new hash and ends every session; a stale check is refused', () => {
    const hash2 = '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$bmV3';
    accounts
      .given([registered])
      .when({ type: 'ChangePassword', verifiedHash: registered.data.passwordHash, passwordHash: hash2 })
      .then([
        { type: 'PasswordChanged', data: { accountId, passwordHash: hash2 } },
        { type: 'AllSessionsEnded', data: { accountId, generation: 1 } },
      ]);
    accounts
      .given([registered, { type: 'PasswordChanged', data: { accountId, passwordHash: hash2 } }])
      .when({ type: 'ChangePassword', verifiedHash: registered.data.passwordHash, passwordHash: '$argon2id$x' })
      .thenThrows('wrong_password');
  });
});
