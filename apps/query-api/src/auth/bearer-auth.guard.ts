/**
 * Bearer-token authentication for the moderator-only queries: the HS256 JWTs issued by command-api
 * (`sub` = account id, `username` claim, signed with the shared `JWT_SECRET`).
 */
import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

/** The signed-in account a request carries after {@link BearerAuthGuard}. */
export interface Account {
  id: string;
  username: string;
}

/** The part of the express request the guard reads and writes. */
export interface AuthRequest {
  headers: { authorization?: string | undefined };
  account?: Account;
}

/**
 * Verifies `token` (HS256 only, expiry enforced).
 * @returns the account of a valid token with string `sub` and `username`, else null (never throws).
 */
export async function verifyToken(jwt: JwtService, token: string): Promise<Account | null> {
  try {
    const c = await jwt.verifyAsync<{ sub?: unknown; username?: unknown }>(token, { algorithms: ['HS256'] });
    return typeof c.sub === 'string' && typeof c.username === 'string' ? { id: c.sub, username: c.username } : null;
  } catch {
    return null;
  }
}

/** Requires `Authorization: Bearer <jwt>`; sets `req.account`. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(@Inject(JwtService) private readonly jwt: JwtService) {}

  /** @throws {UnauthorizedException} (401) when the header is missing or the token does not verify. */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthRequest>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new UnauthorizedException('missing bearer token');
    const account = await verifyToken(this.jwt, match[1]);
    if (!account) throw new UnauthorizedException('invalid or expired token');
    req.account = account;
    return true;
  }
}
