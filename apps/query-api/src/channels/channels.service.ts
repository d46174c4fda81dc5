/**
 * Channel queries over `readmodels.channels` joined with the current broadcast.
 */
import { Inject, Injectable } from '@nestjs/common';
import { HLS_THUMBNAIL_FILE, hlsChannelPath, VOD_MULTIVARIANT_PLAYLIST, vodPath, type LatencyMode } from '@eventcast/contracts';
import type { MediaInfo } from '@eventcast/events';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';
import type { ChannelViewDto } from './channel.dto.js';

/** A channel row with its current broadcast's media (null when offline). */
interface ChannelRow {
  id: string;
  username: string;
  title: string;
  category: string;
  live: boolean;
  latency_mode: LatencyMode;
  recording_enabled: boolean;
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
  return `${hlsBase(hlsPublicUrl, requestHost)}/hls/${encodeURIComponent(username)}/index.m3u8`;
}

/**
 * The public base of the ingest's media origin (`/hls/`, `/vod/`, `/clips/`): `HLS_PUBLIC_URL` without trailing
 * slashes, or `http://<requestHost>:8000` when it is empty.
 */
export function hlsBase(hlsPublicUrl: string, requestHost: string): string {
  return hlsPublicUrl ? hlsPublicUrl.replace(/\/+$/, '') : `http://${requestHost}:8000`;
}

/**
 * Builds the recording's multivariant playlist URL `<base>/vod/<broadcastId>/index.m3u8` (`ChannelView.dvrPlaybackUrl`
 * while live: the EVENT playlist of the DVR window; `VodSummary.playbackUrl` once it is a VOD; @eventcast/contracts
 * vod.ts).
 */
export function vodPlaybackUrl(hlsPublicUrl: string, requestHost: string, broadcastId: string): string {
  return `${hlsBase(hlsPublicUrl, requestHost)}${vodPath(broadcastId)}/${VOD_MULTIVARIANT_PLAYLIST}`;
}

/**
 * Period of the thumbnail URL's cache-buster (ms): the ingest remakes a live channel's picture every
 * `INGEST_THUMBNAIL_INTERVAL_MS` (15 s by default), and an `<img>` already on a page is only fetched again when its URL
 * changes. One URL per period lets the directory's poll show newer pictures while every viewer within a period shares
 * one URL (one entry in a browser, CDN or nginx cache; the origin's `max-age=10` bounds how stale it is).
 */
export const THUMBNAIL_URL_PERIOD_MS = 15_000;

/**
 * Builds the public thumbnail URL `<base>/hls/<username>/thumbnail.jpg?t=<period number>` (`ChannelView.thumbnailUrl`,
 * @eventcast/contracts channel-view.ts).
 * @param hlsPublicUrl configured base (`HLS_PUBLIC_URL`), '' to use `http://<requestHost>:8000`.
 * @param requestHost host name of the HTTP request, without port.
 * @param nowMs the current time, ms since the epoch; `t` = ⌊nowMs / {@link THUMBNAIL_URL_PERIOD_MS}⌋.
 */
export function thumbnailUrl(hlsPublicUrl: string, requestHost: string, username: string, nowMs: number): string {
  const base = hlsPublicUrl ? hlsPublicUrl.replace(/\/+$/, '') : `http://${requestHost}:8000`;
  return `${base}${hlsChannelPath(username)}/${HLS_THUMBNAIL_FILE}?t=${Math.floor(nowMs / THUMBNAIL_URL_PERIOD_MS)}`;
}

/** Public URLs of a live channel on the ingest's HLS origin, by username. */
export interface ChannelUrls {
  playback: (username: string) => string;
  thumbnail: (username: string) => string;
  /** The live broadcast's recording (DVR window), by broadcast id. */
  dvr: (broadcastId: string) => string;
}

/** Read-only access to channels. */
@Injectable()
export class ChannelsService {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  private base() {
    return this.db
      .selectFrom('channels as c')
      .leftJoin('broadcasts as b', 'b.id', 'c.current_broadcast_id')
      .select(['c.id', 'c.username', 'c.title', 'c.category', 'c.live', 'c.latency_mode', 'c.recording_enabled', 'c.current_broadcast_id', 'c.live_since', 'b.media']);
  }

  /**
   * Lists channels: `liveOnly` → live ones, newest broadcast first; otherwise all, live first (newest first),
   * then by username.
   * @param urls maps a username to its playback and thumbnail URLs, a broadcast id to its DVR URL (live channels only).
   */
  async list(liveOnly: boolean, urls: ChannelUrls): Promise<ChannelViewDto[]> {
    let q = this.base();
    if (liveOnly) q = q.where('c.live', '=', true);
    const rows = await q.orderBy('c.live', 'desc').orderBy('c.live_since', (o) => o.desc().nullsLast()).orderBy('c.username').execute();
    return rows.map((r) => toView(r, urls));
  }

  /** One channel by lower-case username, or null when unknown. */
  async get(username: string, urls: ChannelUrls): Promise<ChannelViewDto | null> {
    const row = await this.base().where('c.username', '=', username).executeTakeFirst();
    return row ? toView(row, urls) : null;
  }
}

function toView(r: ChannelRow, urls: ChannelUrls): ChannelViewDto {
  const onAir = r.live && r.current_broadcast_id !== null && r.live_since !== null;
  return {
    id: r.id,
    username: r.username,
    title: r.title,
    category: r.category,
    live: r.live,
    broadcast: onAir ? { id: r.current_broadcast_id!, startedAt: r.live_since!.toISOString(), media: r.media } : null,
    playbackUrl: r.live ? urls.playback(r.username) : null,
    thumbnailUrl: r.live ? urls.thumbnail(r.username) : null,
    latencyMode: r.latency_mode,
    dvrPlaybackUrl: onAir ? urls.dvr(r.current_broadcast_id!) : null,
    recordingEnabled: r.recording_enabled,
  };
}
