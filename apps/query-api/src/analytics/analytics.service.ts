/**
 * Analytics queries over the analytics read models (@eventcast/read-models, projections/analytics.projection.ts) and who may see them:
 * a channel's owner (account id = channel id) and platform admins (`EVENTCAST_ADMINS`, `isAdmin` of
 * @eventcast/platform). Inputs are already validated (common/params.ts, ./range.ts).
 */
import { ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { sql } from 'kysely';
import { isAdmin, loadConfig } from '@eventcast/platform';
import type { Account } from '../auth/bearer-auth.guard.js';
import { parseUsername } from '../common/params.js';
import { READ_MODEL_DB, type ReadModelDb, type AnalyticsBroadcastsTable } from '@eventcast/read-models';
import type {
  AdminSummaryDto,
  AnalyticsChannelDto,
  AnalyticsTotalsDto,
  BroadcastAnalyticsDto,
  BroadcastDetailDto,
  ChannelAnalyticsDto,
  DailySeriesDto,
  DayAnalyticsDto,
} from './analytics.dto.js';
import { daysOf, type DayRange } from './range.js';


const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
const num = (v: unknown): number => Number(v ?? 0);

type BroadcastRow = Omit<AnalyticsBroadcastsTable, 'duration_ms' | 'viewer_ms'> & { duration_ms: string | null; viewer_ms: string };

/** The public shape of a broadcast row. */
export function toBroadcastAnalytics(r: BroadcastRow): BroadcastAnalyticsDto {
  const end = r.ended_at ?? r.last_sample_at ?? r.started_at;
  const durationMs = r.duration_ms !== null ? Number(r.duration_ms) : Math.max(0, end.getTime() - r.started_at.getTime());
  const minutes = durationMs / 60_000;
  return {
    broadcastId: r.broadcast_id,
    channelId: r.channel_id,
    username: r.username,
    startedAt: r.started_at.toISOString(),
    endedAt: r.ended_at?.toISOString() ?? null,
    durationSeconds: Math.round(durationMs / 1000),
    live: r.ended_at === null,
    peakViewers: r.peak_viewers,
    averageViewers: round(r.avg_viewers, 2),
    uniqueViewers: r.unique_viewers,
    messages: r.messages,
    messagesPerMinute: minutes > 0 ? round(r.messages / minutes, 2) : 0,
    newFollowers: r.new_followers,
    samples: r.samples,
  };
}

/** Read-only analytics access. */
@Injectable()
export class AnalyticsService {
  private readonly admins: readonly string[];

  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {
    this.admins = loadConfig(process.env).EVENTCAST_ADMINS;
  }

  /** True when `account` is a platform admin. */
  isAdmin(account: Account): boolean {
    return isAdmin({ EVENTCAST_ADMINS: [...this.admins] }, account.username);
  }

  /** @throws {ForbiddenException} (403) unless `account` is an admin. */
  requireAdmin(account: Account): void {
    if (!this.isAdmin(account)) throw new ForbiddenException('only platform admins (EVENTCAST_ADMINS) may see platform-wide analytics');
  }

  /**
   * The channel named by a raw `:username`, when `account` owns it or is an admin.
   * @throws {BadRequestException} bad username. @throws {NotFoundException} unknown channel.
   * @throws {ForbiddenException} neither the owner nor an admin.
   */
  async channelFor(raw: string, account: Account): Promise<AnalyticsChannelDto> {
    const username = parseUsername(raw);
    const channel = await this.db.selectFrom('channels').select(['id', 'username']).where('username', '=', username).executeTakeFirst();
    if (!channel) throw new NotFoundException(`channel "${username}" not found`);
    this.requireOwnerOrAdmin(channel.id, account);
    return channel;
  }

  private requireOwnerOrAdmin(channelId: string, account: Account): void {
    if (account.id !== channelId && !this.isAdmin(account)) {
      throw new ForbiddenException("only the channel's owner or a platform admin may see its analytics");
    }
  }

  /** All-time totals and the newest `limit` broadcasts of `channel`. */
  async overview(channel: AnalyticsChannelDto, limit: number): Promise<ChannelAnalyticsDto> {
    const [totals, broadcasts] = await Promise.all([this.totals(channel.id), this.broadcasts(channel.id, limit)]);
    return { channel, totals, broadcasts };
  }

  /** The newest `limit` broadcasts of a channel. */
  async broadcasts(channelId: string, limit: number): Promise<BroadcastAnalyticsDto[]> {
    const rows = await this.db.selectFrom('analytics_broadcasts').selectAll().where('channel_id', '=', channelId).orderBy('started_at', 'desc').orderBy('broadcast_id').limit(limit).execute();
    return rows.map(toBroadcastAnalytics);
  }

  private async totals(channelId: string | null, range?: DayRange): Promise<AnalyticsTotalsDto> {
    let q = this.db
      .selectFrom('analytics_channel_days')
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<string>('broadcasts'), sql<string>`0`).as('broadcasts'),
        eb.fn.coalesce(eb.fn.sum<string>('live_ms'), sql<string>`0`).as('live_ms'),
        eb.fn.coalesce(eb.fn.max<number>('peak_viewers'), sql<number>`0`).as('peak_viewers'),
        eb.fn.coalesce(eb.fn.sum<string>('messages'), sql<string>`0`).as('messages'),
        eb.fn.coalesce(eb.fn.sum<string>('new_followers'), sql<string>`0`).as('new_followers'),
      ]);
    if (channelId !== null) q = q.where('channel_id', '=', channelId);
    if (range) q = q.where('day', '>=', range.from).where('day', '<=', range.to);
    const t = await q.executeTakeFirstOrThrow();
    return {
      broadcasts: num(t.broadcasts),
      minutesLive: round(num(t.live_ms) / 60_000, 1),
      peakViewers: num(t.peak_viewers),
      messages: num(t.messages),
      newFollowers: num(t.new_followers),
    };
  }

  /**
   * One broadcast with its viewer samples, messages per minute (zeros included) and top 10 chatters, when `account`
   * owns its channel or is an admin.
   * @throws {NotFoundException} unknown broadcast. @throws {ForbiddenException} not the owner or an admin.
   */
  async detail(broadcastId: string, account: Account): Promise<BroadcastDetailDto> {
    const row = await this.db.selectFrom('analytics_broadcasts').selectAll().where('broadcast_id', '=', broadcastId).executeTakeFirst();
    if (!row) throw new NotFoundException(`broadcast "${broadcastId}" not found`);
    this.requireOwnerOrAdmin(row.channel_id, account);
    const [samples, minutes, chatters] = await Promise.all([
      this.db.selectFrom('analytics_broadcast_samples').select(['sampled_at', 'viewers', 'chatters']).where('broadcast_id', '=', broadcastId).orderBy('sampled_at').execute(),
      this.db.selectFrom('analytics_broadcast_minutes').select(['minute', 'messages']).where('broadcast_id', '=', broadcastId).orderBy('minute').execute(),
      this.db
        .selectFrom('analytics_broadcast_chatters')
        .select(['sender_id', 'sender_name', 'messages'])
        .where('broadcast_id', '=', broadcastId)
        .orderBy('messages', 'desc')
        .orderBy('sender_name')
        .orderBy('sender_id')
        .limit(10)
        .execute(),
    ]);
    const byMinute = new Map(minutes.map((m) => [m.minute.getTime(), m.messages]));
    const first = Math.floor(row.started_at.getTime() / 60_000) * 60_000;
    const lastActivity = Math.max(row.ended_at?.getTime() ?? 0, row.last_sample_at?.getTime() ?? 0, minutes.at(-1)?.minute.getTime() ?? 0, first);
    const perMinute: { minute: string; messages: number }[] = [];
    for (let t = first; t <= lastActivity && perMinute.length < 7 * 24 * 60; t += 60_000) perMinute.push({ minute: new Date(t).toISOString(), messages: byMinute.get(t) ?? 0 });
    return {
      broadcast: toBroadcastAnalytics(row),
      viewers: samples.map((s) => ({ at: s.sampled_at.toISOString(), viewers: s.viewers, chatters: s.chatters })),
      messagesPerMinute: perMinute,
      topChatters: chatters.map((c) => ({ userId: c.sender_id, username: c.sender_name, messages: c.messages })),
    };
  }

  /** Every day of `range` for `channel` (zeros for days without activity). */
  async daily(channel: AnalyticsChannelDto, range: DayRange): Promise<DailySeriesDto> {
    return { channel, from: range.from, to: range.to, days: await this.days(channel.id, range) };
  }

  private async days(channelId: string | null, range: DayRange): Promise<DayAnalyticsDto[]> {
    let q = this.db
      .selectFrom('analytics_channel_days')
      .select((eb) => [
        sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'),
        eb.fn.sum<string>('broadcasts').as('broadcasts'),
        eb.fn.sum<string>('live_ms').as('live_ms'),
        eb.fn.max<number>('peak_viewers').as('peak_viewers'),
        eb.fn.sum<string>('unique_viewers').as('unique_viewers'),
        eb.fn.sum<string>('messages').as('messages'),
        eb.fn.sum<string>('new_followers').as('new_followers'),
      ])
      .where('day', '>=', range.from)
      .where('day', '<=', range.to)
      .groupBy('day');
    if (channelId !== null) q = q.where('channel_id', '=', channelId);
    const rows = new Map((await q.execute()).map((r) => [r.day, r]));
    return daysOf(range).map((day) => {
      const r = rows.get(day);
      return {
        day,
        broadcasts: num(r?.broadcasts),
        minutesLive: round(num(r?.live_ms) / 60_000, 1),
        peakViewers: num(r?.peak_viewers),
        uniqueViewers: num(r?.unique_viewers),
        messages: num(r?.messages),
        newFollowers: num(r?.new_followers),
      };
    });
  }

  /** Platform totals, days and per-channel totals over `range` (call {@link requireAdmin} first). */
  async summary(range: DayRange): Promise<AdminSummaryDto> {
    const [totals, days, channels] = await Promise.all([
      this.totals(null, range),
      this.days(null, range),
      this.db
        .selectFrom('analytics_channel_days as d')
        .leftJoin('channels as c', 'c.id', 'd.channel_id')
        .select((eb) => [
          'd.channel_id',
          eb.fn.coalesce('c.username', sql<string>`'?'`).as('username'),
          eb.fn.sum<string>('d.broadcasts').as('broadcasts'),
          eb.fn.sum<string>('d.live_ms').as('live_ms'),
          eb.fn.max<number>('d.peak_viewers').as('peak_viewers'),
          eb.fn.sum<string>('d.messages').as('messages'),
          eb.fn.sum<string>('d.new_followers').as('new_followers'),
        ])
        .where('d.day', '>=', range.from)
        .where('d.day', '<=', range.to)
        .groupBy(['d.channel_id', 'c.username'])
        .orderBy(sql`sum(d.live_ms)`, 'desc')
        .orderBy('username')
        .execute(),
    ]);
    return {
      from: range.from,
      to: range.to,
      totals,
      days,
      channels: channels.map((c) => ({
        channelId: c.channel_id,
        username: c.username,
        broadcasts: num(c.broadcasts),
        minutesLive: round(num(c.live_ms) / 60_000, 1),
        peakViewers: num(c.peak_viewers),
        messages: num(c.messages),
        newFollowers: num(c.new_followers),
      })),
    };
  }
}
