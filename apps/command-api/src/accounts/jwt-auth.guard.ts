/**
 * Bearer-token guard: 401 without a valid token; sets `req.account = { id, username }`.
 * Two kinds of bearer tokens: the login JWT, and API tokens (`ect_…`, docs/contracts.md "Integrations"), which are
 * accepted only on routes marked `@AcceptsApiToken(scope)` and act as the token's channel owner (`req.apiToken` set).
 */
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiTokenScope } from '@eventcast/events';
import { isApiTokenLike } from '@eventcast/platform';
import { ApiTokenAuthenticator, type ApiTokenRequest } from '../integrations/api-token-authenticator.js';
import { API_TOKEN_SCOPE } from '../integrations/api-token-scope.decorator.js';
import { AuthService } from './auth.service.js';

/** Requires `Authorization: Bearer <jwt>` (or an API token with the route's scope). */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
    private readonly apiTokens: ApiTokenAuthenticator,
  ) {}

  /**
   * @throws {UnauthorizedException} when the header is missing or the token does not verify (unknown/revoked API token).
   * @throws {ForbiddenException} for an API token without the route's scope, or on a route that takes none.
   */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ApiTokenRequest>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new UnauthorizedException('missing bearer token');
    if (isApiTokenLike(match[1])) {
      const scope = this.reflector.getAllAndOverride<ApiTokenScope | undefined>(API_TOKEN_SCOPE, [context.getHandler(), context.getClass()]) ?? null;
      const principal = await this.apiTokens.authenticate(match[1], scope);
      req.account = { id: principal.channelId, username: principal.username };
      req.apiToken = principal;
      return true;
    }
    const claims = await this.auth.verify(match[1]);
    if (!claims) throw new UnauthorizedException('invalid or expired token');
    req.account = { id: claims.sub, username: claims.username };
    return true;
  }
}
