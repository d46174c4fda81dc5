/**
 * `webhooks` read model: the live webhooks of every channel (URL, subscribed event types, encrypted signing secret,
 * enabled flag, and the global position of their registration). The webhook dispatcher matches events against it.
 */
import { sql, type Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

const webhooks = sql.table(`${READMODELS_SCHEMA}.webhooks`);

/** Checkpoint name of {@link WebhooksProjection}; the dispatcher waits for it to pass an event before matching. */
export const WEBHOOKS_PROJECTION = 'webhooks';

/** Projects WebhookRegistered (row), WebhookDisabled/Enabled (`enabled`) and WebhookDeleted (row removed). */
export class WebhooksProjection implements Projection {
  readonly name = WEBHOOKS_PROJECTION;
  readonly tables = ['webhooks'];
  readonly handles: readonly EventType[] = ['WebhookRegistered', 'WebhookDisabled', 'WebhookEnabled', 'WebhookDeleted'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    switch (event.type) {
      case 'WebhookRegistered': {
        const d = event.data;
        await sql`INSERT INTO ${webhooks} (id, channel_id, url, event_types, secret_ciphertext, enabled, registered_position, created_at)
          VALUES (${d.webhookId}, ${d.channelId}, ${d.url}, ${d.eventTypes}::text[], ${d.secretCiphertext}, true, ${event.globalPosition.toString()}::bigint, ${event.occurredAt.toISOString()}::timestamptz)
          ON CONFLICT (id) DO NOTHING`.execute(trx);
        return;
      }
      case 'WebhookDisabled':
      case 'WebhookEnabled':
        await sql`UPDATE ${webhooks} SET enabled = ${event.type === 'WebhookEnabled'} WHERE id = ${event.data.webhookId}`.execute(trx);
        return;
      case 'WebhookDeleted':
        await sql`DELETE FROM ${webhooks} WHERE id = ${event.data.webhookId}`.execute(trx);
        return;
      default:
        return;
    }
  }
}
