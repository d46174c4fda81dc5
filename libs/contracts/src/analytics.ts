/**
 * Analytics HTTP shapes of query-api (docs/contracts.md "Analytics"; the owner or an admin, Bearer). Times ISO-8601,
 * days `YYYY-MM-DD` (UTC), durations in seconds or minutes as named. Browser-safe.
 */
import type { AccountRef } from './accounts.js';

/** Totals of one broadcast. */
export interface BroadcastAnalytics {
  broadcastId: string;
  channelId: string;
  username: string;
  startedAt: string;
  /** Null while live. */
  endedAt: string | null;
  /** Seconds on air (until the last sample while live). */
  durationSeconds: number;
  live: boolean;
  /** Highest sampled concurrent viewers. */
  peakViewers: number;
  /** Time-weighted average concurrent viewers, 2 decimals. */
  averageViewers: number;
  /** Distinct viewers (signed-in accounts and guest sessions). */
  uniqueViewers: number;
  messages: number;
  /** Chat messages per minute on air, 2 decimals. */
  messagesPerMinute: number;
  newFollowers: number;
  /** Viewer samples recorded. */
  samples: number;
}

/** Totals over all time or a range. */
export interface AnalyticsTotals {
  broadcasts: number;
  minutesLive: number;
  peakViewers: number;
  messages: number;
  newFollowers: number;
}

/** One channel day (UTC). */
export interface DayAnalytics {
  day: string;
  broadcasts: number;
  /** Minutes live that fell on this day, 1 decimal. */
  minutesLive: number;
  peakViewers: number;
  uniqueViewers: number;
  messages: number;
  newFollowers: number;
}

/** `GET /analytics/channels/:username`: totals (all time) and the newest broadcasts. */
export interface ChannelAnalytics {
  channel: AccountRef;
  totals: AnalyticsTotals;
  broadcasts: BroadcastAnalytics[];
}

/** `GET /analytics/channels/:username/daily?from=&to=`: every day of the range, zeros included. */
export interface DailySeries {
  channel: AccountRef;
  from: string;
  to: string;
  days: DayAnalytics[];
}

/** One viewer sample of a broadcast. */
export interface ViewerSample {
  at: string;
  viewers: number;
  chatters: number;
}

/** Chat messages in one UTC minute. */
export interface MinuteMessages {
  minute: string;
  messages: number;
}

/** A top chatter of a broadcast. */
export interface TopChatter {
  userId: string;
  username: string;
  messages: number;
}

/** `GET /analytics/broadcasts/:id`: one broadcast in detail. */
export interface BroadcastDetail {
  broadcast: BroadcastAnalytics;
  /** Oldest first. */
  viewers: ViewerSample[];
  /** Every minute from start to end (or the last activity while live), zeros included. */
  messagesPerMinute: MinuteMessages[];
  /** Top 10 by messages (ties by name). */
  topChatters: TopChatter[];
}

/** One channel in the admin summary. */
export interface ChannelSummary extends AnalyticsTotals {
  channelId: string;
  username: string;
}

/** `GET /analytics/summary?from=&to=` (admins): the platform over a range. */
export interface AdminSummary {
  from: string;
  to: string;
  totals: AnalyticsTotals;
  days: DayAnalytics[];
  /** Channels with activity in the range, most minutes live first. */
  channels: ChannelSummary[];
}
