/**
 * Broadcast queries over `readmodels.broadcasts`.
 */
import { Inject, Injectable } from '@nestjs/common';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';
import type { BroadcastViewDto } from './broadcast.dto.js';

/** Read-only access to broadcasts. */
@Injectable()
export class BroadcastsService {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  /** One broadcast by id (a UUID, already validated), or null when unknown. */
  async get(id: string): Promise<BroadcastViewDto | null> {
    const r = await this.db
      .selectFrom('broadcasts')
      .select(['id', 'channel_id', 'started_at', 'ended_at', 'end_reason', 'media'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!r) return null;
    return {
      id: r.id,
      channelId: r.channel_id,
      startedAt: r.started_at.toISOString(),
      endedAt: r.ended_at ? r.ended_at.toISOString() : null,
      endReason: r.end_reason,
      media: r.media,
    };
  }
}
