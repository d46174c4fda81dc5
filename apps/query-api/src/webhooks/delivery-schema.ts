/**
 * Kysely types of the webhook delivery log, schema `integrations` (tables created by the read-model lib's append-only
 * migration `2026_11_23_1100_integrations`). Operational state of the dispatcher and sender, NOT a read model: no
 * projection writes it, it is not rebuilt from the event store, and a projection rebuild never touches it.
 */
import type { ColumnType, Generated } from 'kysely';
import type { BigIntColumn } from '@eventcast/read-models';

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
