/**
 * Channel queries over `readmodels.channels` joined with the current broadcast.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { LatencyMode } from '@eventcast/contracts';
import type { MediaInfo } from '@eventcast/events';
import { READ_MODEL_DB, type ReadModelDb } from '../database/database.js';
import type { ChannelViewDto } from './channel.dto.js';

/** A channel row with its current broadcast's media (null when offline). */
interface ChannelRow {
  id: string;
  username: string;
  title: string;
  category: string;
  live: boolean;
  latency_mode: LatencyMode;
  current_broadcast_id: string | null;
  live_since: Date | null;
  media: MediaInfo | null;
}

/**
 * Builds the public playback URL `<base>/hls/<username>/index.m3u8`.
 * @param hlsPublicUrl configured base (`HLS_PUBLIC_URL`), '' to use `http://<requestHost>:8000`.
 * @param requestHost host name of the HTTP request, without port.
 */
export function playbackUrl(hlsPublicUrl: string, requestHost: string, username: string): string {
  const base = hlsPublicUrl ? hlsPublicUrl.replace(/\/+$/, '') : `http://${requestHost}:8000`;
  return `${base}/hls/${encodeURIComponent(username)}/index.m3u8`;
}

/** Read-only access to channels. */
@Injectable()
export class ChannelsService {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  private base() {
    return this.db
      .selectFrom('channels as c')
      .leftJoin('broadcasts as b', 'b.id', 'c.current_broadcast_id')
      .select(['c.id', 'c.username', 'c.title', 'c.category', 'c.live', 'c.latency_mode', 'c.current_broadcast_id', 'c.live_since', 'b.media']);
  }

  /**
   * Lists channels: `liveOnly` → live ones, newest broadcast first; otherwise all, live first (newest first),
   * then by username.
   * @param playback maps a username to its playback URL (used for live channels only).
   */
  async list(liveOnly: boolean, playback: (username: string) => string): Promise<ChannelViewDto[]> {
    let q = this.base();
    if (liveOnly) q = q.where('c.live', '=', true);
    const rows = await q.orderBy('c.live', 'desc').orderBy('c.live_since', (o) => o.desc().nullsLast()).orderBy('c.username').execute();
    return rows.map((r) => toView(r, playback));
  }

  /** One channel by lower-case username, or null when unknown. */
  async get(username: string, playback: (username: string) => string): Promise<ChannelViewDto | null> {
    const row = await this.base().where('c.username', '=', username).executeTakeFirst();
    return row ? toView(row, playback) : null;
  }
}

function toView(r: ChannelRow, playback: (username: string) => string): ChannelViewDto {
  const onAir = r.live && r.current_broadcast_id !== null && r.live_since !== null;
  return {
    id: r.id,
    username: r.username,
    title: r.title,
    category: r.category,
    live: r.live,
    broadcast: onAir ? { id: r.current_broadcast_id!, startedAt: r.live_since!.toISOString(), media: r.media! } : null,
    playbackUrl: r.live ? playback(r.username) : null,
    latencyMode: r.latency_mode,
  };
}
