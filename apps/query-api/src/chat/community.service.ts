/**
 * Emote and follower queries over `channel_emotes` and `follows`.
 */
import { Inject, Injectable } from '@nestjs/common';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';

/** An emote image: bytes and MIME type (`image/png`, `image/gif` or `image/webp`). */
export interface EmoteImage {
  contentType: string;
  image: Buffer;
}

/** Read-only access to emotes and follows. */
@Injectable()
export class CommunityService {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  /** The channel's emote codes, sorted (byte order, case-sensitive). */
  async emoteCodes(channelId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('channel_emotes').select('code').where('channel_id', '=', channelId).execute();
    return rows.map((r) => r.code).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** One emote's image, or null when the channel has no such code (case-sensitive). */
  async emote(channelId: string, code: string): Promise<EmoteImage | null> {
    const row = await this.db.selectFrom('channel_emotes').select(['content_type', 'image']).where('channel_id', '=', channelId).where('code', '=', code).executeTakeFirst();
    return row ? { contentType: row.content_type, image: row.image } : null;
  }

  /** Number of followers of the channel. */
  async followerCount(channelId: string): Promise<number> {
    const row = await this.db.selectFrom('follows').select((eb) => eb.fn.countAll<string>().as('n')).where('channel_id', '=', channelId).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
