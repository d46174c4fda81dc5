/**
 * Kysely types of the integrations tables (migration `2026_11_23_1100_integrations`):
 * - read models in `readmodels` (written only by the projections of this folder): `api_tokens`, `webhooks`;
 * - the webhook delivery log in its own schema `integrations` (operational state of the dispatcher, NOT a read model:
 *   it is not rebuilt from the event store, and a projection rebuild never touches it).
 */
import type { ColumnType, Generated } from 'kysely';
import type { ApiTokenScope, WebhookEventType } from '@eventcast/events';
import type { BigIntColumn } from './columns.js';

/** Schema of the delivery log. */
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

/** State of one delivery: `pending` until a 2xx (`succeeded`), the last attempt (`failed`) or the webhook went away (`cancelled`). */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

/** `integrations.webhook_deliveries`: one event for one webhook (id = the `webhook-id` header, stable across retries). */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  channel_id: string;
  event_id: string;
  event_type: string;
  global_position: BigIntColumn;
  /** The JSON body POSTed (already redacted). */
  payload: ColumnType<unknown, string, string>;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  last_status_code: number | null;
  last_error: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  completed_at: Date | null;
}

/** `integrations.webhook_delivery_attempts`: every HTTP attempt of a delivery. */
export interface WebhookDeliveryAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  /** 1-based. */
  attempt: number;
  started_at: Date;
  /** HTTP status, null when no response came (network error, timeout). */
  status_code: number | null;
  /** Milliseconds from request start to response headers (or to the error). */
  latency_ms: number;
  error: string | null;
  succeeded: boolean;
}

/** Tables reachable through `root.withSchema(INTEGRATIONS_SCHEMA)`. */
export interface DeliveryDB {
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
}
