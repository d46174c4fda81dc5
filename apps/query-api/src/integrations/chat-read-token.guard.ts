/**
 * Guard of the public chat history: anyone may read it, but a request that presents an API token
 * (`Authorization: Bearer ect_…`) must present a valid one with scope `chat:read` for that channel — 401 unknown or
 * revoked, 403 missing scope or another channel's token — so a tool learns at once that its token stopped working.
 * JWTs and anonymous requests pass unchanged.
 */
import { ForbiddenException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { isApiTokenLike } from '@eventcast/platform';
import { ApiTokenReader } from './api-token.reader.js';

/** See the file comment. */
@Injectable()
export class ChatReadTokenGuard implements CanActivate {
  constructor(@Inject(ApiTokenReader) private readonly tokens: ApiTokenReader) {}

  /** @throws {UnauthorizedException} / {ForbiddenException} as described above. */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<{ headers: { authorization?: string }; params: Record<string, string | undefined> }>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1] || !isApiTokenLike(match[1])) return true;
    const principal = await this.tokens.authenticate(match[1], 'chat:read');
    const channelId = await this.tokens.channelIdOf(req.params['username'] ?? '');
    if (channelId !== null && channelId !== principal.channelId) throw new ForbiddenException("an API token can only read its own channel's chat");
    return true;
  }
}
