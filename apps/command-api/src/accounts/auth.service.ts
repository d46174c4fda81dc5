/**
 * Credentials and tokens: login against the account aggregate, and HS256 access tokens (`sub` = account id,
 * `username`, `sid` = session id; lifetime `AUTH_ACCESS_TOKEN_TTL_SECONDS`, 15 min by default, from JwtModule's options).
 * Sessions and refresh tokens: sessions.ts.
 */
import { Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { LruCache } from '../core/lru-cache.js';
import { AccountReader } from './account-reader.js';
import { verifyPassword } from './passwords.js';

/** The public view of an account in auth responses. */
export interface AccountRef {
  id: string;
  username: string;
}

/** Claims of our access tokens. */
export interface TokenClaims {
  sub: string;
  username: string;
}

/** Message of every failed login, whatever failed (no user enumeration). */
export const BAD_CREDENTIALS = 'invalid username or password';

/** Tokens whose signature was checked, kept per process (most recently used first out at this size). */
export const VERIFIED_TOKENS_CAPACITY = 10_000;

/** Login and token service. */
@Injectable()
export class AuthService {
  /**
   * Tokens already verified → their claims and expiry (epoch ms). HS256 verification (jsonwebtoken, which also builds a
   * secret KeyObject per call) was 5 % of command-api's CPU per chat send over HTTP in a CPU profile of the benchmark's
   * `http` phase (bench/README.md, "Command path"); a token is the same string on every request of a
   * session and its verdict cannot change before `exp` (the secret is fixed for the process), so the check runs once per
   * token. Only tokens that verified and carry `exp` are kept: a forged or expired token is checked every time.
   */
  private readonly verified = new LruCache<string, { claims: TokenClaims; expiresAtMs: number }>(VERIFIED_TOKENS_CAPACITY);

  constructor(
    private readonly jwt: JwtService,
    private readonly accounts: AccountReader,
  ) {}

  /**
   * Signs an access token for `account` in session `sessionId` (claims `sub`, `username`, `sid`; `exp` after the
   * module's `AUTH_ACCESS_TOKEN_TTL_SECONDS`).
   * @returns the JWT and its expiry.
   */
  async issueToken(account: AccountRef, sessionId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = await this.jwt.signAsync({ sub: account.id, username: account.username, sid: sessionId });
    const exp = (this.jwt.decode<{ exp?: number } | null>(token) ?? {}).exp;
    return { token, expiresAt: new Date(typeof exp === 'number' ? exp * 1000 : Date.now()) };
  }

  /**
   * Checks a username (case-insensitive) and password against the store.
   * @returns the account and its "log out everywhere" generation at the time of the check.
   * @throws {UnauthorizedException} "invalid username or password" for an unknown user or a wrong password alike.
   */
  async login(username: string, password: string): Promise<AccountRef & { sessionGeneration: number }> {
    const accountId = await this.accounts.findAccountId(username);
    const loaded = accountId ? await this.accounts.load(accountId) : null;
    const account = loaded?.state.status === 'registered' ? loaded.state : null;
    const ok = await verifyPassword(account?.passwordHash ?? null, password);
    if (!ok || !account) throw new UnauthorizedException(BAD_CREDENTIALS);
    // The generation the password was checked at: a session started from it is refused if the password changed meanwhile.
    return { id: account.accountId, username: account.username, sessionGeneration: account.sessionGeneration };
  }

  /**
   * Verifies a bearer token (HS256 only; `exp` as jsonwebtoken checks it: valid while now < exp). A token verified before
   * is answered from {@link VERIFIED_TOKENS_CAPACITY}'s cache until its `exp`.
   * @returns its claims, or null when invalid, expired or malformed.
   */
  async verify(token: string): Promise<TokenClaims | null> {
    const hit = this.verified.get(token);
    if (hit) {
      if (Date.now() < hit.expiresAtMs) return hit.claims;
      this.verified.delete(token);
      return null;
    }
    try {
      const c = await this.jwt.verifyAsync<Partial<TokenClaims> & { exp?: unknown }>(token, { algorithms: ['HS256'] });
      if (typeof c.sub !== 'string' || typeof c.username !== 'string') return null;
      const claims: TokenClaims = { sub: c.sub, username: c.username };
      if (typeof c.exp === 'number') this.verified.set(token, { claims, expiresAtMs: c.exp * 1000 });
      return claims;
    } catch {
      return null;
    }
  }
}
