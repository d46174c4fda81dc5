/**
 * Sign-up, sign-in and sessions (docs/contracts.md "Sessions"): `POST /auth/register`, `/auth/login`, `/auth/refresh`,
 * `/auth/logout`, `/auth/logout-all`, `/auth/password` (change password). Register and login start a session: the reply carries a short-lived access token
 * and sets the HttpOnly refresh cookie; refresh rotates the cookie's token and answers a new access token; logout ends
 * the cookie's session at once; logout-all ends every session of the signed-in account. Register, login and the password
 * change count in the `auth` rate-limit budget (core/rate-limits.ts: they take a password); the session routes in `api`
 * like every other route (a tab refreshes every ~14 min). Bodies are validated by the global ValidationPipe; passwords and
 * tokens are never logged.
 */
import { Body, Controller, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNoContentResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthResult } from '@eventcast/contracts';
import type { CommandApiConfig } from '../core/config.js';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import { RateLimitBudgetOf } from '../core/rate-limits.js';
import { CONFIG } from '../core/tokens.js';
import { AuthService } from './auth.service.js';
import { RegisterAccountCommand } from './commands/register-account.command.js';
import { CurrentAccount } from './current-account.decorator.js';
import { ChangePasswordDto } from './dto/change-password.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import { AuthResponseDto, ErrorDto } from './dto/responses.dto.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { clearRefreshCookie, refreshCookieOf, setRefreshCookie, type CookieSecureMode } from './session-cookie.js';
import { SessionRefusedException, SessionService, type IssuedSession } from './sessions.js';

/** Registration, login and sessions. */
@ApiTags('auth')
@ApiTooManyRequestsResponse({ type: ErrorDto, description: 'too many attempts from this client' })
@Controller('auth')
export class AuthController {
  private readonly cookieMode: CookieSecureMode;

  constructor(
    private readonly commands: CommandBus,
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
    @Inject(CONFIG) config: CommandApiConfig,
  ) {
    this.cookieMode = config.AUTH_COOKIE_SECURE ?? 'auto';
  }

  /** Registers an account with its channel and first stream key, and signs it in. 201 {@link AuthResult} + cookie; 409 username taken. */
  @Post('register')
  @RateLimitBudgetOf('auth')
  @ApiCreatedResponse({ type: AuthResponseDto, description: 'also sets the refresh cookie `eventcast_refresh`' })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'username is taken' })
  async register(@Body() dto: RegisterDto, @Req() req: AppRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<AuthResponseDto> {
    const { accountId, username } = await this.commands.execute(new RegisterAccountCommand(dto.username, dto.password, metadataOf(req)));
    return this.signedIn(await this.sessions.start({ id: accountId, username }, metadataOf(req, accountId)), req, reply);
  }

  /** Logs in. 200 {@link AuthResult} + cookie; 401 "invalid username or password". */
  @Post('login')
  @RateLimitBudgetOf('auth')
  @HttpCode(200)
  @ApiOkResponse({ type: AuthResponseDto, description: 'also sets the refresh cookie `eventcast_refresh`' })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  async login(@Body() dto: LoginDto, @Req() req: AppRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<AuthResponseDto> {
    const { sessionGeneration, ...account } = await this.auth.login(dto.username, dto.password);
    return this.signedIn(await this.sessions.start(account, metadataOf(req, account.id), sessionGeneration), req, reply);
  }

  /**
   * Exchanges the cookie's refresh token for a new one (rotation) and a new access token. 200 {@link AuthResult} + new
   * cookie; 401 with a `code` of SESSION_REFUSAL_CODES (and the cookie cleared) — a token presented twice revokes the session.
   */
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: AuthResponseDto, description: 'sets the rotated refresh cookie' })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'no, invalid, reused, ended, expired or revoked refresh token (`code`)' })
  async refresh(@Req() req: AppRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<AuthResponseDto> {
    const presented = refreshCookieOf(req, this.cookieMode);
    try {
      return this.signedIn(await this.sessions.refresh(presented, metadataOf(req)), req, reply);
    } catch (err) {
      // Clear only a cookie that was sent: a refusal of a cookie-less request must not delete a cookie another request
      // of the browser (a login in another tab) set meanwhile.
      if (err instanceof SessionRefusedException && presented !== undefined) clearRefreshCookie(req, reply, this.cookieMode);
      throw err;
    }
  }

  /** Ends the cookie's session (its refresh token is refused from now on) and clears the cookie. 204, also without a session. */
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'logged out (idempotent)' })
  async logout(@Req() req: AppRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.sessions.end(refreshCookieOf(req, this.cookieMode), metadataOf(req));
    clearRefreshCookie(req, reply, this.cookieMode);
  }

  /** "Log out everywhere": every session of the signed-in account ends (Bearer access token). 204. */
  @Post('logout-all')
  @HttpCode(204)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'every session of the account ended' })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  async logoutAll(@CurrentAccount() who: { id: string }, @Req() req: AppRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.sessions.endAll(who.id, metadataOf(req, who.id));
    clearRefreshCookie(req, reply, this.cookieMode);
  }

  /**
   * Changes the signed-in account's password (Bearer access token; the current password is required, and counts in
   * the sign-in budget). Every session of the account ends; the reply signs this client in again: 200 {@link AuthResult}
   * + a new cookie. 403 `wrong_password`; 400 validation.
   */
  @Post('password')
  @RateLimitBudgetOf('auth')
  @HttpCode(200)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: AuthResponseDto, description: 'a new session for this client; every other session ended' })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'the current password is wrong (`code` `wrong_password`)' })
  async changePassword(@Body() dto: ChangePasswordDto, @CurrentAccount() who: { id: string }, @Req() req: AppRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<AuthResponseDto> {
    return this.signedIn(await this.sessions.changePassword(who.id, dto.currentPassword, dto.newPassword, metadataOf(req, who.id)), req, reply);
  }

  private async signedIn(session: IssuedSession, req: AppRequest, reply: FastifyReply): Promise<AuthResult> {
    setRefreshCookie(req, reply, session.refreshToken, this.sessions.idleLifetimeMs, this.cookieMode);
    const { token, expiresAt } = await this.auth.issueToken(session.account, session.sessionId);
    return { token, expiresAt: expiresAt.toISOString(), account: session.account };
  }
}
