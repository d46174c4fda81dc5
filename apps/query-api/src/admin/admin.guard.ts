/**
 * Guard of the `/admin/*` queries: a valid login JWT (401 otherwise, as {@link BearerAuthGuard}) of an account listed
 * in `EVENTCAST_ADMINS` (403 with the reason otherwise). Sets `req.account`.
 */
import { ForbiddenException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isAdmin, loadConfig } from '@eventcast/platform';
import { BearerAuthGuard, type AuthRequest } from '../auth/bearer-auth.guard.js';

/** Requires a platform admin's bearer token. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly bearer: BearerAuthGuard;
  private readonly admins: string[];

  constructor(@Inject(JwtService) jwt: JwtService) {
    this.bearer = new BearerAuthGuard(jwt);
    this.admins = loadConfig(process.env).EVENTCAST_ADMINS;
  }

  /**
   * @throws {UnauthorizedException} (401) missing or invalid token.
   * @throws {ForbiddenException} (403) the account is not listed in `EVENTCAST_ADMINS`.
   */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    await this.bearer.canActivate(context);
    const account = context.switchToHttp().getRequest<AuthRequest>().account;
    if (!account || !isAdmin({ EVENTCAST_ADMINS: this.admins }, account.username)) {
      throw new ForbiddenException('only platform admins (EVENTCAST_ADMINS) may use the admin pages');
    }
    return true;
  }
}
