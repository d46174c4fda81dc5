/**
 * `restream_targets` read model (issue 10 item 7): each channel's restream targets (name, server URL, on/off) and
 * the last state the ingest reported (connecting, live, failed/retrying with the reason, stopped) — what the
 * dashboard shows. Never the key (RestreamTargetAdded's `keyCiphertext` is not projected).
 */
import { sql, type Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

const targets = sql.table(`${READMODELS_SCHEMA}.restream_targets`);

/**
 * Projects RestreamTargetAdded (row, enabled), RestreamTargetEnabled/Disabled (`enabled`), RestreamTargetRemoved
 * (row removed) and RestreamTargetStateChanged (state, reason, broadcast, time).
 */
export class RestreamTargetsProjection implements Projection {
  readonly name = 'restream_targets';
  readonly tables = ['restream_targets'];
  readonly handles: readonly EventType[] = ['RestreamTargetAdded', 'RestreamTargetRemoved', 'RestreamTargetEnabled', 'RestreamTargetDisabled', 'RestreamTargetStateChanged'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    switch (event.type) {
      case 'RestreamTargetAdded': {
        const d = event.data;
        await sql`INSERT INTO ${targets} (id, channel_id, name, url, enabled, created_at)
          VALUES (${d.targetId}, ${d.channelId}, ${d.name}, ${d.url}, true, ${event.occurredAt.toISOString()}::timestamptz)
          ON CONFLICT (id) DO NOTHING`.execute(trx);
        return;
      }
      case 'RestreamTargetEnabled':
      case 'RestreamTargetDisabled':
        await sql`UPDATE ${targets} SET enabled = ${event.type === 'RestreamTargetEnabled'} WHERE id = ${event.data.targetId}`.execute(trx);
        return;
      case 'RestreamTargetRemoved':
        await sql`DELETE FROM ${targets} WHERE id = ${event.data.targetId}`.execute(trx);
        return;
      case 'RestreamTargetStateChanged': {
        const d = event.data;
        await sql`UPDATE ${targets} SET broadcast_id = ${d.broadcastId}, state = ${d.state}, reason = ${d.reason}, state_at = ${d.at}::timestamptz
          WHERE id = ${d.targetId}`.execute(trx);
        return;
      }
      default:
        return;
    }
  }
}
