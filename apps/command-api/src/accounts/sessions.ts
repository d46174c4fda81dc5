/**
 * Sign-in sessions (issue 13 item 1; docs/contracts.md "Sessions"): each sign-in starts a session aggregate
 * (`session-<id>`, libs/domain session.decider.ts) whose refresh token rotates on every `POST /auth/refresh`; a rotated-out
 * token presented again revokes the session (RFC 9700 §4.14.2); logout ends it at once; "log out everywhere" raises the
 * account's generation so every older session is refused. Access tokens are short-lived JWTs carrying the session id
 * (`sid`); they are not revoked before their `exp` (at most `AUTH_ACCESS_TOKEN_TTL_SECONDS`).
 */
import { randomUUID } from 'node:crypto';
import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { DEFAULT_SESSION_IDLE_DAYS, SESSION_REFUSAL_CODES, type AccountRef, type SessionRefusalCode } from '@eventcast/contracts';
import { streams, type EventMetadata } from '@eventcast/events';
import { DomainError, sessionDecider, type SessionCommand, type SessionEvent, type SessionState } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { AggregateService } from '../core/aggregate-service.js';
import { Aggregates } from '../core/aggregates.js';
import type { CommandApiConfig } from '../core/config.js';
import { CONFIG, EVENT_STORE } from '../core/tokens.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { RefreshTokens } from './refresh-tokens.js';

/** Sessions kept cached per process (LRU): a refresh reads only the events since the cached revision. */
export const SESSION_CACHE_CAPACITY = 10_000;

/** A session after sign-in or refresh: the refresh token for the cookie and when the session idles out. */
export interface IssuedSession {
  sessionId: string;
  account: AccountRef;
  refreshToken: string;
  /** Idle expiry of the session (the cookie's lifetime). */
  expiresAt: Date;
}

/** A refused refresh: 401 with `code` (a {@link SessionRefusalCode}); the caller clears the cookie. */
export class SessionRefusedException extends UnauthorizedException {
  constructor(
    readonly code: SessionRefusalCode,
    message: string,
  ) {
    super({ statusCode: 401, error: 'Unauthorized', message, code });
  }
}

const REFUSALS: ReadonlySet<string> = new Set(SESSION_REFUSAL_CODES);

/** Starts, rotates and ends sessions. */
@Injectable()
export class SessionService {
  private readonly sessions: AggregateService<SessionCommand, SessionEvent, SessionState>;
  private readonly tokens: RefreshTokens;
  private readonly idleMs: number;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly aggregates: Aggregates,
    @Inject(CONFIG) config: CommandApiConfig,
  ) {
    this.sessions = new AggregateService(store, sessionDecider, streams.session, { cache: { capacity: SESSION_CACHE_CAPACITY } });
    this.tokens = new RefreshTokens(config.JWT_SECRET);
    this.idleMs = (config.AUTH_SESSION_IDLE_DAYS ?? DEFAULT_SESSION_IDLE_DAYS) * 86_400_000;
  }

  /** Idle lifetime of a session, ms. */
  get idleLifetimeMs(): number {
    return this.idleMs;
  }

  /**
   * Starts a session for `account` (after register or login) at the account's current "log out everywhere" generation,
   * or at `checkedAtGeneration` (when the login checked the password) if that is lower: such a session is refused at
   * its first refresh.
   * @throws {DomainError} `account_not_found`.
   */
  async start(account: AccountRef, metadata: EventMetadata, checkedAtGeneration?: number): Promise<IssuedSession> {
    const current = await this.generationOf(account.id);
    // A login checks the password at some generation; a password change (or "log out everywhere") since then must win.
    const generation = checkedAtGeneration === undefined ? current : Math.min(current, checkedAtGeneration);
    const sessionId = randomUUID();
    const expiresAt = new Date(Date.now() + this.idleMs);
    await this.sessions.handle(sessionId, { type: 'StartSession', sessionId, accountId: account.id, generation, expiresAt }, { ...metadata, actorId: account.id });
    return { sessionId, account, refreshToken: this.tokens.issue(sessionId, 0), expiresAt };
  }

  /**
   * Exchanges a refresh token for the next one (rotation). A token already rotated out ends the session
   * (`SessionEnded` `refresh_token_reused`) before the refusal.
   * @throws {SessionRefusedException} every refusal, with its {@link SessionRefusalCode}.
   */
  async refresh(presented: unknown, metadata: EventMetadata): Promise<IssuedSession> {
    const claims = this.tokens.verify(presented);
    if (!claims) throw new SessionRefusedException('refresh_token_invalid', 'no valid refresh token: sign in again');
    const { sessionId, counter } = claims;
    const current = await this.sessions.load(sessionId);
    if (current.state.status === 'none') throw new SessionRefusedException('session_not_found', 'no such session: sign in again');
    const accountId = current.state.accountId;
    let username = '';
    const expiresAt = new Date(Date.now() + this.idleMs);
    let outcome;
    try {
      outcome = await this.sessions.handle(
        sessionId,
        // The account is read on every attempt (a retry after a conflict too), so "log out everywhere" or a password
        // change recorded meanwhile is seen.
        async () => {
          const account = await this.aggregates.accounts.load(accountId);
          if (account.state.status !== 'registered') throw new SessionRefusedException('session_not_found', 'no such account: sign in again');
          username = account.state.username;
          return { type: 'RefreshSession', counter, accountGeneration: account.state.sessionGeneration, now: new Date(), expiresAt };
        },
        { ...metadata, actorId: accountId },
      );
    } catch (err) {
      if (err instanceof DomainError && REFUSALS.has(err.code)) throw new SessionRefusedException(err.code as SessionRefusalCode, err.message);
      throw err;
    }
    const ended = outcome.events.find((e) => e.type === 'SessionEnded');
    if (ended) throw new SessionRefusedException('refresh_token_reused', 'this refresh token was already used: the session is revoked, sign in again');
    const next = outcome.state.status === 'none' ? counter + 1 : outcome.state.counter;
    return { sessionId, account: { id: accountId, username }, refreshToken: this.tokens.issue(sessionId, next), expiresAt };
  }

  /**
   * Ends the session of a refresh token (logout). A malformed or foreign token, an unknown or already ended session:
   * nothing to do (logout is idempotent). A rotated-out token ends the session too (its holder wants out).
   */
  async end(presented: unknown, metadata: EventMetadata): Promise<void> {
    const claims = this.tokens.verify(presented);
    if (!claims) return;
    const current = await this.sessions.load(claims.sessionId);
    if (current.state.status !== 'active') return;
    await this.sessions.handle(claims.sessionId, { type: 'EndSession', reason: 'logout' }, { ...metadata, actorId: current.state.accountId });
  }

  /** "Log out everywhere": every session of the account started so far is refused from now on. @throws {DomainError} `account_not_found`. */
  async endAll(accountId: string, metadata: EventMetadata): Promise<void> {
    await this.aggregates.accounts.handle(accountId, { type: 'EndAllSessions' }, { ...metadata, actorId: accountId });
  }

  /**
   * Changes the password of `accountId` after checking `currentPassword` (Argon2id), ends every session of the
   * account (the others are refused from now on) and starts a new one for the caller.
   * @returns the caller's new session.
   * @throws {ForbiddenException} 403 `wrong_password` (nothing changed); {@link DomainError} `account_not_found`.
   */
  async changePassword(accountId: string, currentPassword: string, newPassword: string, metadata: EventMetadata): Promise<IssuedSession> {
    const { state } = await this.aggregates.accounts.load(accountId);
    if (state.status !== 'registered') throw new DomainError('account_not_found', 'account does not exist');
    const wrong = () => new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: 'the current password is wrong', code: 'wrong_password' });
    if (!(await verifyPassword(state.passwordHash, currentPassword))) throw wrong();
    const passwordHash = await hashPassword(newPassword);
    try {
      await this.aggregates.accounts.handle(accountId, { type: 'ChangePassword', verifiedHash: state.passwordHash, passwordHash }, { ...metadata, actorId: accountId });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'wrong_password') throw wrong();
      throw err;
    }
    return this.start({ id: accountId, username: state.username }, metadata);
  }

  private async generationOf(accountId: string): Promise<number> {
    const { state } = await this.aggregates.accounts.load(accountId);
    if (state.status !== 'registered') throw new DomainError('account_not_found', 'account does not exist');
    return state.sessionGeneration;
  }
}
