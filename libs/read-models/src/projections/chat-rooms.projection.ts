/**
 * `chat_rooms` read model: each channel's chat settings and blocked terms (a missing row means the defaults:
 * `defaultChatSettings`, no terms, action `mask`).
 */
import type { Transaction } from 'kysely';
import { defaultChatSettings, type EventType, type RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

/** Projects ChatSettingsChanged (whole settings object) and ChatBlockedTermsUpdated (terms and action). */
export class ChatRoomsProjection implements Projection {
  readonly name = 'chat-rooms';
  readonly tables = ['chat_rooms'];
  readonly handles: readonly EventType[] = ['ChatSettingsChanged', 'ChatBlockedTermsUpdated'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    switch (event.type) {
      case 'ChatSettingsChanged': {
        const { channelId, username } = event.data;
        const settings = JSON.stringify(event.data.settings);
        await trx
          .insertInto('chat_rooms')
          .values({ channel_id: channelId, username, settings })
          .onConflict((oc) => oc.column('channel_id').doUpdateSet({ settings }))
          .execute();
        return;
      }
      case 'ChatBlockedTermsUpdated': {
        const { channelId, username, action } = event.data;
        const terms = JSON.stringify(event.data.terms);
        await trx
          .insertInto('chat_rooms')
          .values({ channel_id: channelId, username, settings: JSON.stringify(defaultChatSettings), blocked_terms: terms, blocked_action: action })
          .onConflict((oc) => oc.column('channel_id').doUpdateSet({ blocked_terms: terms, blocked_action: action }))
          .execute();
        return;
      }
      default:
        return;
    }
  }
}
