/**
 * Bearer-token guard of the `/me` routes: 401 without a valid token; sets `req.account = { id, username }`.
 */
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { AppRequest } from '../core/correlation.js';
import { AuthService } from './auth.service.js';

/** Requires `Authorization: Bearer <jwt>`. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  /** @throws {UnauthorizedException} when the header is missing or the token does not verify. */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AppRequest>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new UnauthorizedException('missing bearer token');
    const claims = await this.auth.verify(match[1]);
    if (!claims) throw new UnauthorizedException('invalid or expired token');
    req.account = { id: claims.sub, username: claims.username };
    return true;
  }
}
