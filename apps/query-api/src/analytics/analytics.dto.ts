/**
 * Response shapes of the analytics queries (docs/contracts.md "Analytics"). Times are ISO-8601 strings, days
 * `YYYY-MM-DD` (UTC), durations in seconds or minutes as named. Each class `implements` its shape of
 * @eventcast/contracts (analytics.ts), which the web reads.
 */
import { ApiProperty } from '@nestjs/swagger';
import type {
  AccountRef,
  AdminSummary,
  AnalyticsTotals,
  BroadcastAnalytics,
  BroadcastDetail,
  ChannelAnalytics,
  ChannelSummary,
  DailySeries,
  DayAnalytics,
  MinuteMessages,
  TopChatter,
  ViewerSample,
} from '@eventcast/contracts';

/** A channel reference. */
export class AnalyticsChannelDto implements AccountRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
}

/** Totals of one broadcast. */
export class BroadcastAnalyticsDto implements BroadcastAnalytics {
  @ApiProperty({ format: 'uuid' }) broadcastId!: string;
  @ApiProperty({ format: 'uuid' }) channelId!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null while live' }) endedAt!: string | null;
  @ApiProperty({ description: 'seconds on air (until the last sample while live)' }) durationSeconds!: number;
  @ApiProperty() live!: boolean;
  @ApiProperty({ description: 'highest sampled concurrent viewers' }) peakViewers!: number;
  @ApiProperty({ description: 'time-weighted average concurrent viewers, 2 decimals' }) averageViewers!: number;
  @ApiProperty({ description: 'distinct viewers (signed-in accounts and guest sessions)' }) uniqueViewers!: number;
  @ApiProperty() messages!: number;
  @ApiProperty({ description: 'chat messages per minute on air, 2 decimals' }) messagesPerMinute!: number;
  @ApiProperty() newFollowers!: number;
  @ApiProperty({ description: 'viewer samples recorded' }) samples!: number;
}

/** One viewer sample. */
export class ViewerSampleDto implements ViewerSample {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() viewers!: number;
  @ApiProperty() chatters!: number;
}

/** Chat messages in one UTC minute. */
export class MinuteMessagesDto implements MinuteMessages {
  @ApiProperty({ format: 'date-time' }) minute!: string;
  @ApiProperty() messages!: number;
}

/** A top chatter of a broadcast. */
export class TopChatterDto implements TopChatter {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ example: 'bob' }) username!: string;
  @ApiProperty() messages!: number;
}

/** One broadcast in detail. */
export class BroadcastDetailDto implements BroadcastDetail {
  @ApiProperty({ type: BroadcastAnalyticsDto }) broadcast!: BroadcastAnalyticsDto;
  @ApiProperty({ type: [ViewerSampleDto], description: 'viewers over time, oldest first' }) viewers!: ViewerSampleDto[];
  @ApiProperty({ type: [MinuteMessagesDto], description: 'every minute from start to end (or the last activity while live), zeros included' })
  messagesPerMinute!: MinuteMessagesDto[];
  @ApiProperty({ type: [TopChatterDto], description: 'top 10 by messages (ties by name)' }) topChatters!: TopChatterDto[];
}

/** One channel day (UTC). */
export class DayAnalyticsDto implements DayAnalytics {
  @ApiProperty({ example: '2026-11-22' }) day!: string;
  @ApiProperty() broadcasts!: number;
  @ApiProperty({ description: 'minutes live that fell on this day, 1 decimal' }) minutesLive!: number;
  @ApiProperty() peakViewers!: number;
  @ApiProperty() uniqueViewers!: number;
  @ApiProperty() messages!: number;
  @ApiProperty() newFollowers!: number;
}

/** Totals over all time or a range. */
export class AnalyticsTotalsDto implements AnalyticsTotals {
  @ApiProperty() broadcasts!: number;
  @ApiProperty() minutesLive!: number;
  @ApiProperty() peakViewers!: number;
  @ApiProperty() messages!: number;
  @ApiProperty() newFollowers!: number;
}

/** A channel's analytics overview. */
export class ChannelAnalyticsDto implements ChannelAnalytics {
  @ApiProperty({ type: AnalyticsChannelDto }) channel!: AnalyticsChannelDto;
  @ApiProperty({ type: AnalyticsTotalsDto, description: 'all time' }) totals!: AnalyticsTotalsDto;
  @ApiProperty({ type: [BroadcastAnalyticsDto], description: 'newest first, at most `limit`' }) broadcasts!: BroadcastAnalyticsDto[];
}

/** A channel's daily series. */
export class DailySeriesDto implements DailySeries {
  @ApiProperty({ type: AnalyticsChannelDto }) channel!: AnalyticsChannelDto;
  @ApiProperty({ example: '2026-11-01' }) from!: string;
  @ApiProperty({ example: '2026-11-30' }) to!: string;
  @ApiProperty({ type: [DayAnalyticsDto], description: 'every day of the range, zeros included' }) days!: DayAnalyticsDto[];
}

/** One channel in the admin summary. */
export class ChannelSummaryDto extends AnalyticsTotalsDto implements ChannelSummary {
  @ApiProperty({ format: 'uuid' }) channelId!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
}

/** Platform-wide summary over a range (admins). */
export class AdminSummaryDto implements AdminSummary {
  @ApiProperty({ example: '2026-11-01' }) from!: string;
  @ApiProperty({ example: '2026-11-30' }) to!: string;
  @ApiProperty({ type: AnalyticsTotalsDto }) totals!: AnalyticsTotalsDto;
  @ApiProperty({ type: [DayAnalyticsDto], description: 'every day of the range over all channels (uniqueViewers summed per channel)' }) days!: DayAnalyticsDto[];
  @ApiProperty({ type: [ChannelSummaryDto], description: 'channels with activity in the range, most minutes live first' }) channels!: ChannelSummaryDto[];
}
