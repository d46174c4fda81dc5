/** Access to the webhook delivery log (schema `integrations`) over the read-model pool. */
import type { Kysely } from 'kysely';
import { type ReadModelDb, INTEGRATIONS_SCHEMA } from '@eventcast/read-models';
import type { DeliveryDB } from './delivery-schema.js';

/**
 * A Kysely handle on the `integrations` schema sharing `db`'s pool (Kysely's `withSchema` plugin added in front
 * qualifies the tables before the `readmodels` one would).
 */
export function deliveryLogOf(db: ReadModelDb | Kysely<unknown>): Kysely<DeliveryDB> {
  return (db as unknown as Kysely<DeliveryDB>).withSchema(INTEGRATIONS_SCHEMA);
}
