/**
 * Kysely types of the analytics read models (migration `2026_11_23_1000_analytics`, written only by
 * projections/analytics.projection.ts). Times are `timestamptz` (read as `Date`), days `date` (read as `YYYY-MM-DD`
 * strings: the pg type parser for `date` is set to return text, see {@link ANALYTICS_DAY}).
 */
import type { ColumnType } from 'kysely';
import type { BigIntColumn } from './columns.js';

/** A `date` column, read and written as `YYYY-MM-DD` (cast to text in queries). */
export type DayColumn = ColumnType<Date | string, string, string>;

/** `readmodels.analytics_broadcasts`: one row per broadcast with its audience and chat totals. */
export interface AnalyticsBroadcastsTable {
  broadcast_id: string;
  channel_id: string;
  username: string;
  started_at: Date;
  ended_at: Date | null;
  /** From BroadcastEnded; null while live. */
  duration_ms: BigIntColumn | null;
  /** Highest sampled concurrent viewers (0 before the first sample) and when. */
  peak_viewers: number;
  peak_at: Date | null;
  /** Time-weighted average of the samples (docs/contracts.md "Analytics"); 0 without samples. */
  avg_viewers: number;
  /** Integral of viewers over the closed sample segments, in viewer-milliseconds. */
  viewer_ms: BigIntColumn;
  samples: number;
  first_sample_at: Date | null;
  last_sample_at: Date | null;
  last_sample_viewers: number;
  last_sample_interval_s: number;
  unique_viewers: number;
  messages: number;
  new_followers: number;
  /** Live time up to here is already added to `analytics_channel_days.live_ms`. */
  accounted_until: Date;
}

/** `readmodels.analytics_broadcast_samples`: the viewer samples of a broadcast. */
export interface AnalyticsBroadcastSamplesTable {
  broadcast_id: string;
  sampled_at: Date;
  viewers: number;
  chatters: number;
}

/** `readmodels.analytics_broadcast_minutes`: chat messages per UTC minute of a broadcast. */
export interface AnalyticsBroadcastMinutesTable {
  broadcast_id: string;
  minute: Date;
  messages: number;
}

/** `readmodels.analytics_broadcast_chatters`: messages per sender during a broadcast. */
export interface AnalyticsBroadcastChattersTable {
  broadcast_id: string;
  sender_id: string;
  /** The name of the sender's latest message. */
  sender_name: string;
  messages: number;
}

/** `readmodels.analytics_broadcast_viewers`: the viewer keys seen per broadcast (unique viewers). */
export interface AnalyticsBroadcastViewersTable {
  broadcast_id: string;
  viewer_key: string;
}

/** `readmodels.analytics_channel_days`: per channel per UTC day. */
export interface AnalyticsChannelDaysTable {
  channel_id: string;
  day: DayColumn;
  /** Broadcasts started that day. */
  broadcasts: number;
  /** Live time that fell on that day, in ms (a broadcast over midnight is split). */
  live_ms: BigIntColumn;
  peak_viewers: number;
  /** Distinct viewer keys that joined a broadcast of the channel that day. */
  unique_viewers: number;
  messages: number;
  new_followers: number;
}

/** `readmodels.analytics_channel_day_viewers`: viewer keys per channel per day (unique viewers per day). */
export interface AnalyticsChannelDayViewersTable {
  channel_id: string;
  day: DayColumn;
  viewer_key: string;
}

/** The analytics tables, merged into `DB` of schema.ts. */
export interface AnalyticsTables {
  analytics_broadcasts: AnalyticsBroadcastsTable;
  analytics_broadcast_samples: AnalyticsBroadcastSamplesTable;
  analytics_broadcast_minutes: AnalyticsBroadcastMinutesTable;
  analytics_broadcast_chatters: AnalyticsBroadcastChattersTable;
  analytics_broadcast_viewers: AnalyticsBroadcastViewersTable;
  analytics_channel_days: AnalyticsChannelDaysTable;
  analytics_channel_day_viewers: AnalyticsChannelDayViewersTable;
}

/** Every analytics table name (the analytics projection's `tables`). */
export const ANALYTICS_TABLES = [
  'analytics_broadcasts',
  'analytics_broadcast_samples',
  'analytics_broadcast_minutes',
  'analytics_broadcast_chatters',
  'analytics_broadcast_viewers',
  'analytics_channel_days',
  'analytics_channel_day_viewers',
] as const satisfies readonly (keyof AnalyticsTables)[];
