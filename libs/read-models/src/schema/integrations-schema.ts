/**
 * Kysely types of the integrations tables (migration `2026_11_23_1100_integrations`):
 * - read models in `readmodels` (written only by the projections of this folder): `api_tokens`, `webhooks`;
 * - the schema `integrations` of the webhook delivery log (operational state of the dispatcher, NOT a read model: it
 *   is not rebuilt from the event store, and a projection rebuild never touches it). Its tables were created by the
 *   same append-only migration, so the DDL stays here; their types live with the webhook module that writes them
 *   (apps/query-api/src/webhooks/delivery-schema.ts).
 */
import type { ApiTokenScope, WebhookEventType } from '@eventcast/events';
import type { BigIntColumn } from './columns.js';

/** Schema of the webhook delivery log (created by the integrations migration). */
export const INTEGRATIONS_SCHEMA = 'integrations';

/** `readmodels.api_tokens`: every token ever created (revoked ones keep `revoked_at`). */
export interface ApiTokensTable {
  id: string;
  channel_id: string;
  name: string;
  scopes: ApiTokenScope[];
  bot_name: string;
  /** SHA-256 hex of the token (unique). */
  token_hash: string;
  prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}

/** `readmodels.webhooks`: live webhooks (a deleted webhook's row is removed). */
export interface WebhooksTable {
  id: string;
  channel_id: string;
  url: string;
  event_types: WebhookEventType[];
  /** AES-256-GCM ciphertext of the `whsec_…` secret under STREAM_KEY_SECRET. */
  secret_ciphertext: string;
  enabled: boolean;
  /** Global position of WebhookRegistered: only later events are delivered. */
  registered_position: BigIntColumn;
  created_at: Date;
}

/** The read-model tables of this feature (mixed into `DB`). */
export interface IntegrationsTables {
  api_tokens: ApiTokensTable;
  webhooks: WebhooksTable;
}
