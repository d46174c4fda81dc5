/**
 * Credentials and tokens: login against the account aggregate, and HS256 JWTs (`sub` = account id, `username`
 * claim, 7 days, from JwtModule's options).
 */
import { Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
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

/** Login and token service. */
@Injectable()
export class AuthService {
  constructor(
    private readonly jwt: JwtService,
    private readonly accounts: AccountReader,
  ) {}

  /** Signs an access token for `account`. */
  issueToken(account: AccountRef): Promise<string> {
    const claims: TokenClaims = { sub: account.id, username: account.username };
    return this.jwt.signAsync(claims);
  }

  /**
   * Checks a username (case-insensitive) and password against the store.
   * @throws {UnauthorizedException} "invalid username or password" for an unknown user or a wrong password alike.
   */
  async login(username: string, password: string): Promise<AccountRef> {
    const accountId = await this.accounts.findAccountId(username);
    const loaded = accountId ? await this.accounts.load(accountId) : null;
    const account = loaded?.state.status === 'registered' ? loaded.state : null;
    const ok = await verifyPassword(account?.passwordHash ?? null, password);
    if (!ok || !account) throw new UnauthorizedException(BAD_CREDENTIALS);
    return { id: account.accountId, username: account.username };
  }

  /** Verifies a bearer token. @returns its claims, or null when invalid, expired or malformed. */
  async verify(token: string): Promise<TokenClaims | null> {
    try {
      const c = await this.jwt.verifyAsync<Partial<TokenClaims>>(token, { algorithms: ['HS256'] });
      return typeof c.sub === 'string' && typeof c.username === 'string' ? { sub: c.sub, username: c.username } : null;
    } catch {
      return null;
    }
  }
}
