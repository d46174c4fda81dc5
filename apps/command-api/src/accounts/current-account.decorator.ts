import { createParamDecorator, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import type { AppRequest } from '../core/correlation.js';

/** The authenticated account `{ id, username }` set by {@link JwtAuthGuard}. @throws {UnauthorizedException} without it. */
export const CurrentAccount = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<AppRequest>();
  if (!req.account) throw new UnauthorizedException('missing bearer token');
  return req.account;
});
