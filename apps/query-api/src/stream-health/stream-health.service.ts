/**
 * The owner's stream-health queries (issue 10 item 5, docs/contracts.md "Stream health"): the latest sample of a
 * channel's live broadcast with its last refused publish, and a broadcast's series of samples. Owner or platform
 * admin only (the analytics rule, `AnalyticsService.channelFor`).
 */
import { ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  MAX_HEALTH_SERIES_SAMPLES,
  type BroadcastHealthSeries,
  type ChannelHealthResponse,
  type LastPublishRefusal,
} from '@eventcast/contracts';
import type { Account } from '../auth/bearer-auth.guard.js';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';
import { AnalyticsService } from '../analytics/analytics.service.js';

/** Reads the stream-health read models. */
@Injectable()
export class StreamHealthService {
  constructor(
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(AnalyticsService) private readonly analytics: AnalyticsService,
  ) {}

  /**
   * The health of the channel named by a raw `:username`: `latest` only while the sample's broadcast is the live one.
   * @throws {BadRequestException} bad username. @throws {NotFoundException} unknown channel.
   * @throws {ForbiddenException} neither the owner nor an admin.
   */
  async channel(raw: string, account: Account): Promise<ChannelHealthResponse> {
    const channel = await this.analytics.channelFor(raw, account);
    const [state, latest, refusal] = await Promise.all([
      this.db.selectFrom('channels').select(['live', 'current_broadcast_id']).where('id', '=', channel.id).executeTakeFirst(),
      this.db.selectFrom('stream_health_latest').select(['broadcast_id', 'measures']).where('channel_id', '=', channel.id).executeTakeFirst(),
      this.db.selectFrom('publish_refusals_latest').selectAll().where('channel_id', '=', channel.id).executeTakeFirst(),
    ]);
    const live = state?.live === true;
    const broadcastId = live ? (state?.current_broadcast_id ?? null) : null;
    const lastRefusal = refusal
      ? ({
          reason: refusal.reason,
          videoCodec: refusal.video_codec,
          audioCodec: refusal.audio_codec,
          refusedAt: refusal.refused_at.toISOString(),
        } as LastPublishRefusal)
      : null;
    return {
      channelId: channel.id,
      username: channel.username,
      live,
      broadcastId,
      latest: broadcastId !== null && latest?.broadcast_id === broadcastId ? latest.measures : null,
      lastRefusal,
    };
  }

  /**
   * The samples of one broadcast, oldest first (at most {@link MAX_HEALTH_SERIES_SAMPLES}, the newest kept).
   * @throws {NotFoundException} unknown broadcast. @throws {ForbiddenException} not the owner or an admin.
   */
  async series(broadcastId: string, account: Account): Promise<BroadcastHealthSeries> {
    const row = await this.db.selectFrom('broadcasts').select(['channel_id']).where('id', '=', broadcastId).executeTakeFirst();
    if (!row) throw new NotFoundException(`broadcast "${broadcastId}" not found`);
    if (account.id !== row.channel_id && !this.analytics.isAdmin(account)) {
      throw new ForbiddenException("only the channel's owner or a platform admin may see its stream health");
    }
    const rows = await this.db
      .selectFrom('stream_health_samples')
      .select(['measures'])
      .where('broadcast_id', '=', broadcastId)
      .orderBy('sampled_at', 'desc')
      .limit(MAX_HEALTH_SERIES_SAMPLES)
      .execute();
    return { broadcastId, channelId: row.channel_id, samples: rows.reverse().map((r) => r.measures) };
  }
}
