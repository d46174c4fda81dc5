/**
 * `channel_emotes` read model: each channel's emote images, decoded from the events' base64 (so the event store
 * alone rebuilds them).
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

/** Projects ChannelEmoteAdded (insert, or replace the image of the same code) and ChannelEmoteRemoved (delete). */
export class EmotesProjection implements Projection {
  readonly name = 'channel-emotes';
  readonly tables = ['channel_emotes'];
  readonly handles: readonly EventType[] = ['ChannelEmoteAdded', 'ChannelEmoteRemoved'];

  /** See {@link Projection.apply}. */
  async apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    switch (event.type) {
      case 'ChannelEmoteAdded': {
        const { channelId, code, contentType, imageBase64 } = event.data;
        const image = Buffer.from(imageBase64, 'base64');
        await trx
          .insertInto('channel_emotes')
          .values({ channel_id: channelId, code, content_type: contentType, image })
          .onConflict((oc) => oc.columns(['channel_id', 'code']).doUpdateSet({ content_type: contentType, image }))
          .execute();
        return;
      }
      case 'ChannelEmoteRemoved':
        await trx.deleteFrom('channel_emotes').where('channel_id', '=', event.data.channelId).where('code', '=', event.data.code).execute();
        return;
      default:
        return;
    }
  }
}
