/**
 * Authenticates `ect_…` API tokens (docs/contracts.md "Integrations") against the channel's integrations aggregate read
 * fresh from the store: the token names its channel, the aggregate holds the SHA-256 of every token it issued, and a
 * revoked token is refused from the event on (no cache can keep it alive).
 */
import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { ApiTokenScope } from '@eventcast/events';
import { hashApiToken, hashesEqual, parseApiToken } from '@eventcast/platform';
import { AccountReader } from '../accounts/account-reader.js';
import type { AppRequest } from '../core/correlation.js';
import { IntegrationsAggregates } from './integrations-aggregates.js';

/** What a valid token stands for. */
export interface ApiTokenPrincipal {
  tokenId: string;
  /** The channel (= owner account id) that issued it; the token acts only there. */
  channelId: string;
  /** The owner's username. */
  username: string;
  name: string;
  botName: string;
  scopes: readonly ApiTokenScope[];
}

/** A request authenticated with an API token (set by the JWT guard's token branch). */
export interface ApiTokenRequest extends AppRequest {
  apiToken?: ApiTokenPrincipal;
}

/**
 * Event metadata marking a command made with an API token: `{ apiTokenId }` (the audit trail tells a tool from its
 * owner), or nothing for a signed-in person.
 */
export function apiTokenMetadata(req: ApiTokenRequest): { apiTokenId?: string } {
  return req.apiToken ? { apiTokenId: req.apiToken.tokenId } : {};
}

/** Token verification for the guards. */
@Injectable()
export class ApiTokenAuthenticator {
  constructor(
    private readonly integrations: IntegrationsAggregates,
    private readonly accounts: AccountReader,
  ) {}

  /**
   * Verifies `token` and that it carries `scope`.
   * @returns the principal.
   * @throws {UnauthorizedException} (401) malformed, unknown or revoked token, or its channel no longer exists.
   * @throws {ForbiddenException} (403) the token lacks `scope` (`scope` null: the route takes no API tokens at all).
   */
  async authenticate(token: string, scope: ApiTokenScope | null): Promise<ApiTokenPrincipal> {
    const parsed = parseApiToken(token);
    if (!parsed) throw new UnauthorizedException('malformed API token');
    const state = await this.integrations.load(parsed.channelId);
    const hash = hashApiToken(token);
    const found = [...state.tokens.values()].find((t) => hashesEqual(t.tokenHash, hash));
    if (!found) throw new UnauthorizedException('unknown API token');
    if (found.revokedAt !== null) throw new UnauthorizedException('API token revoked');
    const { state: account } = await this.accounts.load(parsed.channelId);
    if (account.status !== 'registered') throw new UnauthorizedException('the channel of this API token no longer exists');
    if (scope === null) throw new ForbiddenException('API tokens cannot be used on this route; sign in instead');
    if (!found.scopes.includes(scope)) throw new ForbiddenException(`this API token lacks the scope "${scope}" (it has: ${found.scopes.join(', ')})`);
    return { tokenId: found.tokenId, channelId: parsed.channelId, username: account.username, name: found.name, botName: found.botName, scopes: found.scopes };
  }
}
