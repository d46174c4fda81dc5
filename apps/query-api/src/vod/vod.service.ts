/**
 * Queries over the recording read models (issue 11): VOD lists and details, chat replay, the moderation actions and
 * the chat-activity strip of a VOD, clips and their chat. Times of the chat are mapped onto media time through the
 * recording's timeline with `mediaOffsetAt` of @eventcast/contracts (EXT-X-PROGRAM-DATE-TIME, RFC 8216bis §4.4.4.6).
 * Inputs are already validated (./replay.ts); unknown ids throw 404s with `video_not_found` / `clip_not_found`.
 */
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { sql, type RawBuilder } from 'kysely';
import {
  ACTIVITY_BUCKET_SECONDS,
  clipThumbnailPath,
  clipVideoPath,
  mediaOffsetAt,
  VOD_MULTIVARIANT_PLAYLIST,
  VOD_THUMBNAIL_FILE,
  vodPath,
  type ActivityStrip,
  type ChatReplayMessage,
  type ChatReplayPage,
  type ClipList,
  type ClipView,
  type ReplayHiddenReason,
  type ReplayModerationList,
  type TimelineRun,
  type VodDetail,
  type VodList,
  type VodSummary,
} from '@eventcast/contracts';
import { READ_MODEL_DB, type ReadModelDb, READMODELS_SCHEMA, moderationAction, type StoredChapter } from '@eventcast/read-models';
import { badgesOf, encodeCursor, sliceTimeline, wallWindow, type KeysetCursor } from './replay.js';

const t = (name: string) => sql.table(`${READMODELS_SCHEMA}.${name}`);
const iso = (ms: number) => new Date(ms).toISOString();
const cursorTime = (c: KeysetCursor) => sql`(timestamptz 'epoch' + ${c.micros.toString()}::bigint * interval '1 microsecond')`;

/** Origin URLs of recorded media: the public base of the ingest's origin (`HLS_PUBLIC_URL` or the request host). */
export interface MediaUrls {
  /** `<base><path>` for an origin path such as `/vod/<id>/index.m3u8`. */
  media(path: string): string;
}

/** The recording a chat replay maps onto: its channel, timeline and when removals stop counting. */
export interface ReplaySource {
  channelId: string;
  timeline: readonly TimelineRun[];
  /** Removals after this instant (ms; the broadcast's end) are "after the broadcast": such messages are not served. */
  removalCutoffMs: number | null;
  /** A VOD's broadcast start and end (ms): its chat is the whole broadcast's ({@link wallWindow}); absent for a clip. */
  bounds?: { startWallMs: number; endWallMs: number };
}

/** A VOD's row with what the queries need. */
interface VodRow {
  id: string;
  channel_id: string;
  username: string;
  title: string;
  category: string;
  chapters: StoredChapter[];
  started_at: Date;
  ended_at: Date | null;
  recorded_at: Date | null;
  duration_ms: string | null;
  renditions: VodDetail['renditions'] | null;
  timeline: TimelineRun[] | null;
  thumbnail: boolean;
  views: number | null;
}

/** Read-only access to VODs and clips. */
@Injectable()
export class VodService {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  private vods() {
    return this.db
      .selectFrom('vods as v')
      .leftJoin('analytics_broadcasts as a', 'a.broadcast_id', 'v.id')
      .select([
        'v.id',
        'v.channel_id',
        'v.username',
        'v.title',
        'v.category',
        'v.chapters',
        'v.started_at',
        'v.ended_at',
        'v.recorded_at',
        'v.duration_ms',
        'v.renditions',
        'v.timeline',
        'v.thumbnail',
        'a.unique_viewers as views',
        sql<string>`(extract(epoch from v.started_at) * 1000000)::bigint::text`.as('started_us'),
      ]);
  }

  /** The channel id of a lower-case username, or null. */
  async channelId(username: string): Promise<string | null> {
    return (await this.db.selectFrom('channels').select('id').where('username', '=', username).executeTakeFirst())?.id ?? null;
  }

  /**
   * A channel's VODs (recorded, not deleted), newest broadcast first, keyset-paged by (start, id).
   * @throws {NotFoundException} unknown channel.
   */
  async list(username: string, cursor: KeysetCursor | null, limit: number, urls: MediaUrls): Promise<VodList> {
    const channelId = await this.channelId(username);
    if (channelId === null) throw new NotFoundException({ message: `channel "${username}" not found`, code: 'channel_not_found' });
    let q = this.vods().where('v.channel_id', '=', channelId).where('v.recorded_at', 'is not', null);
    if (cursor) q = q.where(sql<boolean>`(v.started_at, v.id) < (${cursorTime(cursor)}, ${cursor.id}::uuid)`);
    const rows = await q.orderBy('v.started_at', 'desc').orderBy('v.id', 'desc').limit(limit + 1).execute();
    const shown = rows.slice(0, limit);
    const last = shown.at(-1);
    return {
      items: shown.map((r) => summary(r, urls)),
      nextCursor: rows.length > limit && last ? encodeCursor({ micros: BigInt(last.started_us), id: last.id }) : null,
    };
  }

  /** A recorded VOD's row. @throws {NotFoundException} `video_not_found` when absent, not recorded yet or deleted. */
  async vod(id: string): Promise<VodRow & { timeline: TimelineRun[] }> {
    const row = await this.vods().where('v.id', '=', id).where('v.recorded_at', 'is not', null).executeTakeFirst();
    if (!row || row.timeline === null) throw new NotFoundException({ message: `video ${id} not found`, code: 'video_not_found' });
    return { ...row, timeline: row.timeline };
  }

  /** `GET /videos/:id`: the VOD with its chapters (media offsets through the timeline), renditions and timeline. */
  async detail(id: string, urls: MediaUrls): Promise<VodDetail> {
    const row = await this.vod(id);
    return {
      ...summary(row, urls),
      chapters: row.chapters.map((c) => ({ offsetSeconds: mediaOffsetAt(row.timeline, Date.parse(c.at)) / 1000, title: c.title, category: c.category })),
      renditions: row.renditions ?? [],
      timeline: row.timeline,
    };
  }

  /** The replay source of a VOD: its timeline; removals count up to the broadcast's end (else the end of the media). */
  async vodSource(id: string): Promise<ReplaySource> {
    const row = await this.vod(id);
    return { channelId: row.channel_id, timeline: row.timeline, removalCutoffMs: endOf(row), bounds: { startWallMs: row.started_at.getTime(), endWallMs: endOf(row) } };
  }

  /**
   * One page of chat replay: the channel's messages whose `visible_at` falls within the source's media (from `fromMs`
   * of media time), in media order (by `visible_at`, then id: `mediaOffsetAt` never decreases with wall time), after
   * `cursor`, at most `limit`. A message is hidden at the first of its delete or clear (`deleted_at`) and the first ban
   * or timeout of its sender after it (`moderation_log`; the live chat removes a banned or timed-out user's earlier
   * messages, apps/web chat.svelte.ts); removed before it became visible (held by the message delay, never shown), or
   * deleted or its sender banned after the broadcast's end: not served (a clear or a timeout after the end does not
   * reach back into the replay); removed after the source's last picture (after a clip's range, or in the
   * reconnect grace period): served, not hidden. One range scan of `chat_messages (channel_id, visible_at, id)` plus an index
   * probe per row, never the whole chat.
   */
  async replay(source: ReplaySource, fromMs: number, cursor: KeysetCursor | null, limit: number): Promise<ChatReplayPage> {
    const window = wallWindow(source.timeline, fromMs, source.bounds);
    if (!window) return { items: [], nextCursor: null };
    const { rows } = await replayQuery(source, window, cursor, limit).execute(this.db);
    const shown = rows.slice(0, limit);
    const items = shown.map((r): ChatReplayMessage => {
      const byDelete = r.deleted_at !== null && (r.ban_at === null || r.deleted_at.getTime() <= r.ban_at.getTime());
      let hiddenAt = byDelete ? r.deleted_at : r.ban_at;
      // Removed only after the last picture (a clip's end, the reconnect grace period): it stays for the whole media.
      if (hiddenAt !== null && hiddenAt.getTime() >= window.endWall) hiddenAt = null;
      let reason: ReplayHiddenReason | null = null;
      if (hiddenAt !== null && byDelete) reason = r.cleared ? 'cleared' : 'deleted';
      else if (hiddenAt !== null) reason = r.ban_action === 'user_banned' ? 'banned' : 'timed_out';
      return {
        id: r.id,
        senderId: r.sender_id,
        senderName: r.sender_name,
        senderRole: r.sender_role,
        badges: badgesOf(r.sender_role, r.bot_name !== null),
        text: r.text,
        visibleAt: r.visible_at.toISOString(),
        offsetSeconds: mediaOffsetAt(source.timeline, r.visible_at.getTime()) / 1000,
        hiddenAtOffsetSeconds: hiddenAt === null ? null : mediaOffsetAt(source.timeline, hiddenAt.getTime()) / 1000,
        hiddenReason: reason,
      };
    });
    const last = shown.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ micros: BigInt(last.visible_us), id: last.id }) : null };
  }

  /**
   * The moderation actions of the channel during the broadcast (start to end; to now while it is live), oldest first,
   * at most `max`, with media offsets.
   */
  async moderation(id: string, max = 5000): Promise<{ channelId: string; list: ReplayModerationList }> {
    const row = await this.vod(id);
    const rows = await this.db
      .selectFrom('moderation_log')
      .select(['id', 'action', 'moderator_name', 'target_name', 'reason', 'at'])
      .where('channel_id', '=', row.channel_id)
      .where('at', '>=', row.started_at)
      .where('at', '<=', new Date(endOf(row)))
      .orderBy('global_position')
      .limit(max)
      .execute();
    return {
      channelId: row.channel_id,
      list: {
        items: rows.map((r) => ({
          id: r.id,
          action: r.action,
          moderatorName: r.moderator_name,
          targetName: r.target_name,
          reason: r.reason,
          at: r.at.toISOString(),
          offsetSeconds: mediaOffsetAt(row.timeline, r.at.getTime()) / 1000,
        })),
      },
    };
  }

  /** The channel a VOD belongs to (for access checks). @throws {NotFoundException} `video_not_found`. */
  async vodChannel(id: string): Promise<string> {
    return (await this.vod(id)).channel_id;
  }

  /**
   * The chat-activity strip of a VOD: per {@link ACTIVITY_BUCKET_SECONDS} of media time, the messages that viewers saw
   * live (visible within the media, not removed before they became visible), counted in SQL with each run of the
   * timeline owning the wall-clock span from the end of the run before it to its own end (what `mediaOffsetAt` maps
   * into it); and the highest viewer count sampled in the bucket (analytics samples of the broadcast), null without one.
   */
  async activity(id: string): Promise<ActivityStrip> {
    const row = await this.vod(id);
    const bucketMs = ACTIVITY_BUCKET_SECONDS * 1000;
    const mediaMs = Number(row.duration_ms ?? 0);
    const tl = row.timeline;
    const n = Math.max(1, Math.ceil(mediaMs / bucketMs));
    const buckets = Array.from({ length: n }, (_, i) => ({ offsetSeconds: i * ACTIVITY_BUCKET_SECONDS, messages: 0, viewers: null as number | null }));
    const at = (offsetMs: number) => buckets[Math.min(n - 1, Math.max(0, Math.floor(offsetMs / bucketMs)))]!;
    if (tl.length > 0) {
      const lo = tl.map((r, i) => iso(i === 0 ? r.programDateTimeMs : tl[i - 1]!.programDateTimeMs + tl[i - 1]!.durationMs));
      const hi = tl.map((r) => iso(r.programDateTimeMs + r.durationMs));
      const { rows } = await sql<{ bucket: number; messages: string }>`
        SELECT floor((r.off + greatest(0, extract(epoch from (m.visible_at - r.pdt)) * 1000)) / ${bucketMs})::int AS bucket, count(*) AS messages
        FROM ${t('chat_messages')} m
        JOIN unnest(${tl.map((r) => r.offsetMs)}::bigint[], ${tl.map((r) => iso(r.programDateTimeMs))}::timestamptz[], ${lo}::timestamptz[], ${hi}::timestamptz[])
          AS r(off, pdt, lo, hi) ON m.visible_at >= r.lo AND m.visible_at < r.hi
        WHERE m.channel_id = ${row.channel_id}::uuid AND m.visible_at >= ${lo[0]!}::timestamptz AND m.visible_at < ${hi.at(-1)!}::timestamptz
          AND (m.deleted_at IS NULL OR m.deleted_at > m.visible_at)
        GROUP BY 1`.execute(this.db);
      for (const r of rows) at(r.bucket * bucketMs).messages += Number(r.messages);
    }
    const samples = await this.db.selectFrom('analytics_broadcast_samples').select(['sampled_at', 'viewers']).where('broadcast_id', '=', id).execute();
    for (const s of samples) {
      const w = s.sampled_at.getTime();
      const first = tl[0];
      const last = tl.at(-1);
      if (!first || !last || w < first.programDateTimeMs || w > last.programDateTimeMs + last.durationMs) continue;
      const b = at(mediaOffsetAt(tl, w));
      b.viewers = Math.max(b.viewers ?? 0, s.viewers);
    }
    return { bucketSeconds: ACTIVITY_BUCKET_SECONDS, buckets };
  }

  private clips() {
    return this.db
      .selectFrom('clips')
      .selectAll()
      .select(sql<string>`(extract(epoch from created_at) * 1000000)::bigint::text`.as('created_us'));
  }

  /** A channel's clips, newest first, keyset-paged by (created, id). @throws {NotFoundException} unknown channel. */
  async clipList(username: string, cursor: KeysetCursor | null, limit: number, urls: MediaUrls): Promise<ClipList> {
    const channelId = await this.channelId(username);
    if (channelId === null) throw new NotFoundException({ message: `channel "${username}" not found`, code: 'channel_not_found' });
    let q = this.clips().where('channel_id', '=', channelId);
    if (cursor) q = q.where(sql<boolean>`(created_at, id) < (${cursorTime(cursor)}, ${cursor.id}::uuid)`);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    const shown = rows.slice(0, limit);
    const last = shown.at(-1);
    return {
      items: shown.map((r) => clipView(r, urls)),
      nextCursor: rows.length > limit && last ? encodeCursor({ micros: BigInt(last.created_us), id: last.id }) : null,
    };
  }

  /** One clip. @throws {NotFoundException} `clip_not_found`. */
  async clip(id: string, urls: MediaUrls): Promise<ClipView> {
    const row = await this.clips().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundException({ message: `clip ${id} not found`, code: 'clip_not_found' });
    return clipView(row, urls);
  }

  /**
   * The replay source of a clip, media time relative to its first frame: the recording's runs within the clip when
   * the VOD is known, else one run from the clip's `startedAt` (its first frame's program date time) for its duration.
   * Removals count up to the broadcast's end when it ended (still live: every removal counts).
   * @throws {NotFoundException} `clip_not_found`.
   */
  async clipSource(id: string): Promise<ReplaySource> {
    const clip = await this.db.selectFrom('clips').selectAll().where('id', '=', id).executeTakeFirst();
    if (!clip) throw new NotFoundException({ message: `clip ${id} not found`, code: 'clip_not_found' });
    const vod = await this.db.selectFrom('vods').select(['timeline', 'ended_at']).where('id', '=', clip.broadcast_id).executeTakeFirst();
    const durationMs = Number(clip.duration_ms);
    const sliced = vod?.timeline ? sliceTimeline(vod.timeline, Number(clip.start_offset_ms), durationMs) : [];
    const timeline = sliced.length > 0 ? sliced : [{ offsetMs: 0, programDateTimeMs: clip.started_at.getTime(), durationMs }];
    // The broadcast's end from the VOD, else (recording deleted, the clip kept) from the broadcasts read model.
    const ended = vod?.ended_at ?? (await this.db.selectFrom('broadcasts').select('ended_at').where('id', '=', clip.broadcast_id).executeTakeFirst())?.ended_at ?? null;
    return { channelId: clip.channel_id, timeline, removalCutoffMs: ended ? ended.getTime() : null };
  }

  /** Number of VODs (recorded, not deleted) and of clips. */
  async counts(): Promise<{ recordings: number; clips: number }> {
    const v = await this.db.selectFrom('vods').select((eb) => eb.fn.countAll<string>().as('n')).where('recorded_at', 'is not', null).executeTakeFirstOrThrow();
    const c = await this.db.selectFrom('clips').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    return { recordings: Number(v.n), clips: Number(c.n) };
  }
}

/** A row of {@link replayQuery}. */
export interface ReplayRow {
  id: string;
  sender_id: string;
  sender_name: string;
  sender_role: string;
  text: string;
  visible_at: Date;
  /** `visible_at` in µs since the epoch, decimal (the cursor). */
  visible_us: string;
  bot_name: string | null;
  deleted_at: Date | null;
  /** The first ban or timeout of the sender after the message, and its action. */
  ban_at: Date | null;
  ban_action: string | null;
  /** Whether `deleted_at` is a clear's. */
  cleared: boolean;
}

/**
 * The SQL of one chat replay page (see {@link VodService.replay}): at most `limit + 1` rows after `cursor` within
 * `window`, in (visible_at, id) order. Exported for the index test (EXPLAIN).
 */
export function replayQuery(source: ReplaySource, window: { fromWall: number; endWall: number }, cursor: KeysetCursor | null, limit: number): RawBuilder<ReplayRow> {
  // Up to the cutoff (the broadcast's end) every removal counts. After it, only deletes and bans do (they hide the
  // message from the replay for good); a clear or a timeout after the end is a live-chat action of a later moment —
  // clearing the chat at the start of the next stream must not wipe the previous VOD's replay.
  const before = (at: RawBuilder<unknown>) => (source.removalCutoffMs === null ? sql`true` : sql`${at} <= ${iso(source.removalCutoffMs)}::timestamptz`);
  const deleted = sql`CASE WHEN cl.cleared AND NOT (${before(sql`m.deleted_at`)}) THEN NULL ELSE m.deleted_at END`;
  const removal = sql`LEAST(${deleted}, b.at)`;
  const after = cursor ? sql`AND (m.visible_at, m.id) > (${cursorTime(cursor)}, ${cursor.id}::uuid)` : sql``;
  return sql<ReplayRow>`SELECT m.id, m.sender_id, m.sender_name, m.sender_role, m.text, m.visible_at, m.bot_name, ${deleted} AS deleted_at,
        (extract(epoch from m.visible_at) * 1000000)::bigint::text AS visible_us,
        b.at AS ban_at, b.action AS ban_action, cl.cleared
      FROM ${t('chat_messages')} m
      LEFT JOIN LATERAL (
        SELECT CASE WHEN m.deleted_at IS NULL THEN false ELSE COALESCE((SELECT true FROM ${t('moderation_log')} c
          WHERE c.channel_id = m.channel_id AND c.at = m.deleted_at AND c.action = ${moderationAction.ChatCleared} LIMIT 1), false) END AS cleared
      ) cl ON true
      LEFT JOIN LATERAL (
        SELECT l.at, l.action FROM ${t('moderation_log')} l
        WHERE l.channel_id = m.channel_id AND l.target_id = m.sender_id AND l.action IN ('user_banned', 'user_timed_out')
          AND (l.action = 'user_banned' OR ${before(sql`l.at`)})
          AND l.global_position > m.global_position
        ORDER BY l.global_position LIMIT 1
      ) b ON true
      WHERE m.channel_id = ${source.channelId}::uuid
        AND m.visible_at >= ${iso(window.fromWall)}::timestamptz AND m.visible_at < ${iso(window.endWall)}::timestamptz
        ${after}
        AND (${removal} IS NULL OR (${removal} > m.visible_at AND ${before(removal)}))
      ORDER BY m.visible_at, m.id
      LIMIT ${limit + 1}`;
}

/** End of a broadcast (ms): `BroadcastEnded`'s time, else the end of the recorded media, else the recording time. */
function endOf(row: Pick<VodRow, 'ended_at' | 'recorded_at' | 'started_at'> & { timeline: readonly TimelineRun[] | null }): number {
  if (row.ended_at) return row.ended_at.getTime();
  const last = row.timeline?.at(-1);
  if (last) return last.programDateTimeMs + last.durationMs;
  return (row.recorded_at ?? row.started_at).getTime();
}

function summary(r: VodRow, urls: MediaUrls): VodSummary {
  return {
    id: r.id,
    channelId: r.channel_id,
    username: r.username,
    title: r.title,
    category: r.category,
    startedAt: r.started_at.toISOString(),
    endedAt: new Date(endOf(r)).toISOString(),
    durationSeconds: Number(r.duration_ms ?? 0) / 1000,
    views: r.views ?? 0,
    thumbnailUrl: r.thumbnail ? urls.media(`${vodPath(r.id)}/${VOD_THUMBNAIL_FILE}`) : null,
    playbackUrl: urls.media(`${vodPath(r.id)}/${VOD_MULTIVARIANT_PLAYLIST}`),
  };
}

function clipView(
  r: { id: string; channel_id: string; username: string; broadcast_id: string; title: string; created_by: string; created_by_name: string; created_at: Date; start_offset_ms: string; duration_ms: string; from_live: boolean },
  urls: MediaUrls,
): ClipView {
  return {
    id: r.id,
    channelId: r.channel_id,
    username: r.username,
    broadcastId: r.broadcast_id,
    title: r.title,
    createdBy: r.created_by,
    createdByName: r.created_by_name,
    createdAt: r.created_at.toISOString(),
    startSeconds: Number(r.start_offset_ms) / 1000,
    durationSeconds: Number(r.duration_ms) / 1000,
    fromLive: r.from_live,
    videoUrl: urls.media(clipVideoPath(r.id)),
    thumbnailUrl: urls.media(clipThumbnailPath(r.id)),
  };
}
