/**
 * Authenticates `ect_…` API tokens on the query side against the `api_tokens` read model (by SHA-256; the token
 * itself is never stored). A revoked token is refused as soon as the projector has applied ApiTokenRevoked (the
 * same transaction that moves the checkpoint, normally milliseconds after the revoke).
 */
import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { ApiTokenScope } from '@eventcast/events';
import { hashApiToken, parseApiToken } from '@eventcast/platform';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';

/** A verified token. */
export interface QueryApiTokenPrincipal {
  tokenId: string;
  channelId: string;
  scopes: readonly ApiTokenScope[];
}

/** Token lookups for guards. */
@Injectable()
export class ApiTokenReader {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  /**
   * Verifies `token` and its `scope`.
   * @throws {UnauthorizedException} malformed, unknown or revoked token. @throws {ForbiddenException} scope missing.
   */
  async authenticate(token: string, scope: ApiTokenScope): Promise<QueryApiTokenPrincipal> {
    const parsed = parseApiToken(token);
    if (!parsed) throw new UnauthorizedException('malformed API token');
    const row = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'channel_id', 'scopes', 'revoked_at'])
      .where('token_hash', '=', hashApiToken(token))
      .executeTakeFirst();
    if (!row || row.channel_id !== parsed.channelId) throw new UnauthorizedException('unknown API token');
    if (row.revoked_at !== null) throw new UnauthorizedException('API token revoked');
    if (!row.scopes.includes(scope)) throw new ForbiddenException(`this API token lacks the scope "${scope}" (it has: ${row.scopes.join(', ')})`);
    return { tokenId: row.id, channelId: row.channel_id, scopes: row.scopes };
  }

  /** Id of the channel `username` (lower-cased), or null. */
  async channelIdOf(username: string): Promise<string | null> {
    const row = await this.db.selectFrom('channels').select('id').where('username', '=', username.toLowerCase()).executeTakeFirst();
    return row?.id ?? null;
  }
}
