/**
 * `api_tokens` read model: every API token of every channel with its scopes and hash (never the token), and when it
 * was revoked. query-api authenticates `ect_…` tokens against it (chat history with `chat:read`).
 */
import { sql, type Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

const apiTokens = sql.table(`${READMODELS_SCHEMA}.api_tokens`);

/** Projects ApiTokenCreated (row, `created_at` = occurredAt; a repeat is ignored) and ApiTokenRevoked (`revoked_at`). */
export class ApiTokensProjection implements Projection {
  readonly name = 'api_tokens';
  readonly tables = ['api_tokens'];
  readonly handles: readonly EventType[] = ['ApiTokenCreated', 'ApiTokenRevoked'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    if (event.type === 'ApiTokenCreated') {
      const d = event.data;
      await sql`INSERT INTO ${apiTokens} (id, channel_id, name, scopes, bot_name, token_hash, prefix, created_at)
        VALUES (${d.tokenId}, ${d.channelId}, ${d.name}, ${d.scopes}::text[], ${d.botName}, ${d.tokenHash}, ${d.prefix}, ${event.occurredAt.toISOString()}::timestamptz)
        ON CONFLICT (id) DO NOTHING`.execute(trx);
    } else if (event.type === 'ApiTokenRevoked') {
      await sql`UPDATE ${apiTokens} SET revoked_at = ${event.data.revokedAt}::timestamptz WHERE id = ${event.data.tokenId} AND revoked_at IS NULL`.execute(trx);
    }
  }
}
