/**
 * Analytics read models (docs/contracts.md "Analytics"), from broadcast, audience, chat and follow events:
 * - per broadcast (`analytics_broadcasts` + samples, messages per minute, chatters, viewer keys): duration, peak and
 *   time-weighted average concurrent viewers, unique viewers, messages, new followers;
 * - per channel per UTC day (`analytics_channel_days` + viewer keys): broadcasts started, live time, peak viewers,
 *   unique viewers, messages, new followers.
 *
 * Rules (all from the events alone, so a rebuild gives the same rows):
 * - a chat message or a follow belongs to the broadcast that is live on its channel at its global position
 *   (after BroadcastStarted, before BroadcastEnded); its day is the UTC date of the event's `occurredAt`, its minute
 *   the UTC minute of `occurredAt`;
 * - a sample counts only for a broadcast that is not yet ended and only when it is later than the previous sample;
 *   each sample stands for its viewers from `sampledAt` until the next sample, the end of the broadcast, or
 *   2 × `intervalSeconds`, whichever comes first (a gap longer than that counts as 0 viewers: no edge had viewers);
 *   the average divides that integral by the time from the first sample to the end (to the last sample while live);
 * - live time is added to the days it falls on when a sample arrives and when the broadcast ends;
 * - a viewer key counts once per broadcast and once per channel per day (the day of the ViewerJoinedBroadcast event).
 *
 * Batched: one runner batch is folded in memory (rows it touches are loaded first), then written with one statement
 * per table; chat-heavy batches cost a handful of statements whatever their size. Equal to applying the events one
 * by one because every counter is an exact fold in global order and written as an absolute value or a sum.
 */
import { sql, type Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import { ANALYTICS_TABLES } from '../schema/analytics-schema.js';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

const table = (name: string) => sql.table(`${READMODELS_SCHEMA}.${name}`);
const DAY_MS = 86_400_000;

/** A broadcast row in memory (times in epoch ms). */
interface BroadcastRow {
  broadcastId: string;
  channelId: string;
  username: string;
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  peakViewers: number;
  peakAt: number | null;
  viewerMs: number;
  samples: number;
  firstSampleAt: number | null;
  lastSampleAt: number | null;
  lastSampleViewers: number;
  lastSampleIntervalS: number;
  uniqueViewers: number;
  messages: number;
  newFollowers: number;
  accountedUntil: number;
  dirty: boolean;
}

/** Additions to one channel day. */
interface DayDelta {
  channelId: string;
  day: string;
  broadcasts: number;
  liveMs: number;
  peakViewers: number;
  messages: number;
  newFollowers: number;
}

/** One-entry caches of {@link utcDay} and {@link utcMinute}: the number of the day / minute and its text. */
const lastDay = { n: Number.NaN, text: '' };
const lastMinute = { n: Number.NaN, text: '' };

/** The UTC date (`YYYY-MM-DD`) of epoch ms `t`. */
export function utcDay(t: number): string {
  // Events come in time order: the day of the previous call is nearly always the answer (no Date, no string).
  const n = Math.floor(t / DAY_MS);
  if (n !== lastDay.n) Object.assign(lastDay, { n, text: new Date(t).toISOString().slice(0, 10) });
  return lastDay.text;
}

/** ISO-8601 of the start of the UTC minute of epoch ms `t` (one-entry cache, as {@link utcDay}). */
function utcMinute(t: number): string {
  const n = Math.floor(t / 60_000);
  if (n !== lastMinute.n) Object.assign(lastMinute, { n, text: new Date(n * 60_000).toISOString() });
  return lastMinute.text;
}

/**
 * Time-weighted average viewers of a broadcast row: `viewerMs` over the covered span (first sample → end, or →
 * last sample while live); the last sample's viewers when the span is empty; 0 without samples.
 */
export function averageViewers(r: Pick<BroadcastRow, 'viewerMs' | 'firstSampleAt' | 'lastSampleAt' | 'endedAt' | 'lastSampleViewers'>): number {
  if (r.firstSampleAt === null || r.lastSampleAt === null) return 0;
  const span = (r.endedAt ?? r.lastSampleAt) - r.firstSampleAt;
  return span > 0 ? r.viewerMs / span : r.lastSampleViewers;
}

/** See the module comment. */
export class AnalyticsProjection implements Projection {
  readonly name = 'analytics';
  readonly tables: readonly string[] = ANALYTICS_TABLES;
  readonly handles: readonly EventType[] = ['BroadcastStarted', 'BroadcastEnded', 'BroadcastViewersSampled', 'ViewerJoinedBroadcast', 'ChatMessageSent', 'ChannelFollowed'];

  /** See {@link Projection.apply}. */
  apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    return this.applyBatch(trx, [event]);
  }

  /** See {@link Projection.applyBatch} and the module comment. */
  async applyBatch(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<void> {
    const rows = await this.load(trx, events);
    const live = new Map<string, BroadcastRow>();
    for (const r of rows.values()) {
      const cur = live.get(r.channelId);
      if (r.endedAt === null && (!cur || cur.startedAt < r.startedAt)) live.set(r.channelId, r);
    }
    const days = new Map<string, DayDelta>();
    const day = (channelId: string, d: string): DayDelta => {
      const k = `${channelId}/${d}`;
      let v = days.get(k);
      if (!v) days.set(k, (v = { channelId, day: d, broadcasts: 0, liveMs: 0, peakViewers: 0, messages: 0, newFollowers: 0 }));
      return v;
    };
    const addLive = (r: BroadcastRow, until: number): void => {
      let from = r.accountedUntil;
      while (from < until) {
        const next = Math.min(until, (Math.floor(from / DAY_MS) + 1) * DAY_MS);
        day(r.channelId, utcDay(from)).liveMs += next - from;
        from = next;
      }
      if (until > r.accountedUntil) r.accountedUntil = until;
    };
    const closeSegment = (r: BroadcastRow, until: number): void => {
      if (r.lastSampleAt === null) return;
      const held = Math.min(until - r.lastSampleAt, 2 * r.lastSampleIntervalS * 1000);
      if (held > 0) r.viewerMs += r.lastSampleViewers * held;
    };
    const samples: { broadcastId: string; at: string; viewers: number; chatters: number }[] = [];
    const minutes = new Map<string, { broadcastId: string; minute: string; messages: number }>();
    const chatters = new Map<string, { broadcastId: string; senderId: string; name: string; messages: number }>();
    const viewers = new Map<string, { broadcastId: string; channelId: string; key: string; day: string }>();

    for (const e of events) {
      switch (e.type) {
        case 'BroadcastStarted': {
          const d = e.data;
          if (rows.has(d.broadcastId)) break;
          const startedAt = Date.parse(d.startedAt);
          const r: BroadcastRow = {
            broadcastId: d.broadcastId,
            channelId: d.channelId,
            username: d.username,
            startedAt,
            endedAt: null,
            durationMs: null,
            peakViewers: 0,
            peakAt: null,
            viewerMs: 0,
            samples: 0,
            firstSampleAt: null,
            lastSampleAt: null,
            lastSampleViewers: 0,
            lastSampleIntervalS: 0,
            uniqueViewers: 0,
            messages: 0,
            newFollowers: 0,
            accountedUntil: startedAt,
            dirty: true,
          };
          rows.set(r.broadcastId, r);
          live.set(r.channelId, r);
          day(r.channelId, utcDay(startedAt)).broadcasts += 1;
          break;
        }
        case 'BroadcastEnded': {
          const r = rows.get(e.data.broadcastId);
          if (!r || r.endedAt !== null) break;
          const endedAt = Math.max(Date.parse(e.data.endedAt), r.startedAt);
          closeSegment(r, endedAt);
          addLive(r, endedAt);
          Object.assign(r, { endedAt, durationMs: e.data.durationMs, dirty: true });
          if (live.get(r.channelId) === r) live.delete(r.channelId);
          break;
        }
        case 'BroadcastViewersSampled': {
          const d = e.data;
          const r = rows.get(d.broadcastId);
          const at = Date.parse(d.sampledAt);
          if (!r || r.endedAt !== null || at < r.startedAt || (r.lastSampleAt !== null && at <= r.lastSampleAt)) break;
          closeSegment(r, at);
          addLive(r, at);
          if (r.peakAt === null || d.viewers > r.peakViewers) Object.assign(r, { peakViewers: d.viewers, peakAt: at });
          r.firstSampleAt ??= at;
          Object.assign(r, { lastSampleAt: at, lastSampleViewers: d.viewers, lastSampleIntervalS: d.intervalSeconds, samples: r.samples + 1, dirty: true });
          const dd = day(r.channelId, utcDay(at));
          dd.peakViewers = Math.max(dd.peakViewers, d.viewers);
          samples.push({ broadcastId: r.broadcastId, at: new Date(at).toISOString(), viewers: d.viewers, chatters: d.chatters });
          break;
        }
        case 'ViewerJoinedBroadcast': {
          const d = e.data;
          if (!rows.has(d.broadcastId)) break;
          const k = `${d.broadcastId}/${d.viewerKey}`;
          if (!viewers.has(k)) viewers.set(k, { broadcastId: d.broadcastId, channelId: d.channelId, key: d.viewerKey, day: utcDay(e.occurredAt.getTime()) });
          break;
        }
        case 'ChatMessageSent': {
          const t = e.occurredAt.getTime();
          day(e.data.channelId, utcDay(t)).messages += 1;
          const r = live.get(e.data.channelId);
          if (!r) break;
          r.messages += 1;
          r.dirty = true;
          const minute = utcMinute(t);
          const mk = `${r.broadcastId}/${minute}`;
          const m = minutes.get(mk);
          if (m) m.messages += 1;
          else minutes.set(mk, { broadcastId: r.broadcastId, minute, messages: 1 });
          const ck = `${r.broadcastId}/${e.data.senderId}`;
          const c = chatters.get(ck);
          if (c) {
            c.messages += 1;
            c.name = e.data.senderName;
          }
          else chatters.set(ck, { broadcastId: r.broadcastId, senderId: e.data.senderId, name: e.data.senderName, messages: 1 });
          break;
        }
        case 'ChannelFollowed': {
          day(e.data.channelId, utcDay(e.occurredAt.getTime())).newFollowers += 1;
          const r = live.get(e.data.channelId);
          if (r) Object.assign(r, { newFollowers: r.newFollowers + 1, dirty: true });
          break;
        }
        default:
          break;
      }
    }
    await this.flush(trx, rows, days, samples, [...minutes.values()], [...chatters.values()], [...viewers.values()]);
  }

  /** Loads the broadcast rows a batch touches: by broadcast id, and the live ones of the channels it names. */
  private async load(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<Map<string, BroadcastRow>> {
    const ids = new Set<string>();
    const channels = new Set<string>();
    for (const e of events) {
      if ('broadcastId' in e.data && typeof e.data.broadcastId === 'string') ids.add(e.data.broadcastId);
      if (e.type === 'ChatMessageSent' || e.type === 'ChannelFollowed') channels.add(e.data.channelId);
    }
    const rows = new Map<string, BroadcastRow>();
    if (ids.size === 0 && channels.size === 0) return rows;
    const found = await trx
      .selectFrom('analytics_broadcasts')
      .selectAll()
      .where((eb) =>
        eb.or([
          ...(ids.size > 0 ? [eb('broadcast_id', 'in', [...ids])] : []),
          ...(channels.size > 0 ? [eb.and([eb('channel_id', 'in', [...channels]), eb('ended_at', 'is', null)])] : []),
        ]),
      )
      .execute();
    const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
    for (const f of found) {
      rows.set(f.broadcast_id, {
        broadcastId: f.broadcast_id,
        channelId: f.channel_id,
        username: f.username,
        startedAt: f.started_at.getTime(),
        endedAt: ms(f.ended_at),
        durationMs: f.duration_ms === null ? null : Number(f.duration_ms),
        peakViewers: f.peak_viewers,
        peakAt: ms(f.peak_at),
        viewerMs: Number(f.viewer_ms),
        samples: f.samples,
        firstSampleAt: ms(f.first_sample_at),
        lastSampleAt: ms(f.last_sample_at),
        lastSampleViewers: f.last_sample_viewers,
        lastSampleIntervalS: f.last_sample_interval_s,
        uniqueViewers: f.unique_viewers,
        messages: f.messages,
        newFollowers: f.new_followers,
        accountedUntil: f.accounted_until.getTime(),
        dirty: false,
      });
    }
    return rows;
  }

  /** Writes a folded batch: viewer keys first (their inserts decide the unique counts), then every table once. */
  private async flush(
    trx: Transaction<DB>,
    rows: Map<string, BroadcastRow>,
    days: Map<string, DayDelta>,
    samples: { broadcastId: string; at: string; viewers: number; chatters: number }[],
    minutes: { broadcastId: string; minute: string; messages: number }[],
    chatters: { broadcastId: string; senderId: string; name: string; messages: number }[],
    viewers: { broadcastId: string; channelId: string; key: string; day: string }[],
  ): Promise<void> {
    if (viewers.length > 0) {
      const added = await sql<{ broadcast_id: string }>`INSERT INTO ${table('analytics_broadcast_viewers')} (broadcast_id, viewer_key)
        SELECT * FROM unnest(${viewers.map((v) => v.broadcastId)}::uuid[], ${viewers.map((v) => v.key)}::text[])
        ON CONFLICT DO NOTHING RETURNING broadcast_id`.execute(trx);
      for (const a of added.rows) {
        const r = rows.get(a.broadcast_id);
        if (r) Object.assign(r, { uniqueViewers: r.uniqueViewers + 1, dirty: true });
      }
      const dayKeys = new Map(viewers.map((v) => [`${v.channelId}/${v.day}/${v.key}`, v]));
      const perDay = [...dayKeys.values()];
      const addedDays = await sql<{ channel_id: string; day: string }>`INSERT INTO ${table('analytics_channel_day_viewers')} (channel_id, day, viewer_key)
        SELECT * FROM unnest(${perDay.map((v) => v.channelId)}::uuid[], ${perDay.map((v) => v.day)}::date[], ${perDay.map((v) => v.key)}::text[])
        ON CONFLICT DO NOTHING RETURNING channel_id, to_char(day, 'YYYY-MM-DD') AS day`.execute(trx);
      const uniques = new Map<string, { channelId: string; day: string; n: number }>();
      for (const a of addedDays.rows) {
        const k = `${a.channel_id}/${a.day}`;
        const u = uniques.get(k);
        if (u) u.n += 1;
        else uniques.set(k, { channelId: a.channel_id, day: a.day, n: 1 });
      }
      const list = [...uniques.values()];
      if (list.length > 0) {
        await sql`INSERT INTO ${table('analytics_channel_days')} AS d (channel_id, day, unique_viewers)
          SELECT * FROM unnest(${list.map((u) => u.channelId)}::uuid[], ${list.map((u) => u.day)}::date[], ${list.map((u) => u.n)}::int[])
          ON CONFLICT (channel_id, day) DO UPDATE SET unique_viewers = d.unique_viewers + excluded.unique_viewers`.execute(trx);
      }
    }
    const dirty = [...rows.values()].filter((r) => r.dirty);
    if (dirty.length > 0) {
      const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
      const col = <T>(f: (r: BroadcastRow) => T): T[] => dirty.map(f);
      await sql`INSERT INTO ${table('analytics_broadcasts')} AS b (broadcast_id, channel_id, username, started_at, ended_at, duration_ms, peak_viewers,
          peak_at, avg_viewers, viewer_ms, samples, first_sample_at, last_sample_at, last_sample_viewers, last_sample_interval_s, unique_viewers,
          messages, new_followers, accounted_until)
        SELECT * FROM unnest(${col((r) => r.broadcastId)}::uuid[], ${col((r) => r.channelId)}::uuid[], ${col((r) => r.username)}::text[],
          ${col((r) => iso(r.startedAt))}::timestamptz[], ${col((r) => iso(r.endedAt))}::timestamptz[], ${col((r) => r.durationMs)}::bigint[],
          ${col((r) => r.peakViewers)}::int[], ${col((r) => iso(r.peakAt))}::timestamptz[], ${col((r) => averageViewers(r))}::float8[],
          ${col((r) => Math.round(r.viewerMs))}::bigint[], ${col((r) => r.samples)}::int[], ${col((r) => iso(r.firstSampleAt))}::timestamptz[],
          ${col((r) => iso(r.lastSampleAt))}::timestamptz[], ${col((r) => r.lastSampleViewers)}::int[], ${col((r) => r.lastSampleIntervalS)}::int[],
          ${col((r) => r.uniqueViewers)}::int[], ${col((r) => r.messages)}::int[], ${col((r) => r.newFollowers)}::int[],
          ${col((r) => iso(r.accountedUntil))}::timestamptz[])
        ON CONFLICT (broadcast_id) DO UPDATE SET ended_at = excluded.ended_at, duration_ms = excluded.duration_ms,
          peak_viewers = excluded.peak_viewers, peak_at = excluded.peak_at, avg_viewers = excluded.avg_viewers, viewer_ms = excluded.viewer_ms,
          samples = excluded.samples, first_sample_at = excluded.first_sample_at, last_sample_at = excluded.last_sample_at,
          last_sample_viewers = excluded.last_sample_viewers, last_sample_interval_s = excluded.last_sample_interval_s,
          unique_viewers = excluded.unique_viewers, messages = excluded.messages, new_followers = excluded.new_followers,
          accounted_until = excluded.accounted_until`.execute(trx);
    }
    if (samples.length > 0) {
      await sql`INSERT INTO ${table('analytics_broadcast_samples')} (broadcast_id, sampled_at, viewers, chatters)
        SELECT * FROM unnest(${samples.map((s) => s.broadcastId)}::uuid[], ${samples.map((s) => s.at)}::timestamptz[],
          ${samples.map((s) => s.viewers)}::int[], ${samples.map((s) => s.chatters)}::int[])
        ON CONFLICT DO NOTHING`.execute(trx);
    }
    if (minutes.length > 0) {
      await sql`INSERT INTO ${table('analytics_broadcast_minutes')} AS m (broadcast_id, minute, messages)
        SELECT * FROM unnest(${minutes.map((m) => m.broadcastId)}::uuid[], ${minutes.map((m) => m.minute)}::timestamptz[], ${minutes.map((m) => m.messages)}::int[])
        ON CONFLICT (broadcast_id, minute) DO UPDATE SET messages = m.messages + excluded.messages`.execute(trx);
    }
    if (chatters.length > 0) {
      await sql`INSERT INTO ${table('analytics_broadcast_chatters')} AS c (broadcast_id, sender_id, sender_name, messages)
        SELECT * FROM unnest(${chatters.map((c) => c.broadcastId)}::uuid[], ${chatters.map((c) => c.senderId)}::uuid[],
          ${chatters.map((c) => c.name)}::text[], ${chatters.map((c) => c.messages)}::int[])
        ON CONFLICT (broadcast_id, sender_id) DO UPDATE SET messages = c.messages + excluded.messages, sender_name = excluded.sender_name`.execute(trx);
    }
    const dayList = [...days.values()];
    if (dayList.length > 0) {
      await sql`INSERT INTO ${table('analytics_channel_days')} AS d (channel_id, day, broadcasts, live_ms, peak_viewers, messages, new_followers)
        SELECT * FROM unnest(${dayList.map((d) => d.channelId)}::uuid[], ${dayList.map((d) => d.day)}::date[], ${dayList.map((d) => d.broadcasts)}::int[],
          ${dayList.map((d) => Math.round(d.liveMs))}::bigint[], ${dayList.map((d) => d.peakViewers)}::int[], ${dayList.map((d) => d.messages)}::int[],
          ${dayList.map((d) => d.newFollowers)}::int[])
        ON CONFLICT (channel_id, day) DO UPDATE SET broadcasts = d.broadcasts + excluded.broadcasts, live_ms = d.live_ms + excluded.live_ms,
          peak_viewers = GREATEST(d.peak_viewers, excluded.peak_viewers), messages = d.messages + excluded.messages,
          new_followers = d.new_followers + excluded.new_followers`.execute(trx);
    }
  }
}
