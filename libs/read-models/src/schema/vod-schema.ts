/**
 * Kysely types of the recording read models (migration `2026_12_07_0300_recordings`, issue 11): `vods` and
 * `vod_channels` (written only by ./vods.projection.ts) and `clips` (./clips.projection.ts). Times `timestamptz`,
 * durations and offsets in ms.
 */
import type { ColumnType } from 'kysely';
import type { RecordedRendition, TimelineRun } from '@eventcast/contracts';
import type { BigIntColumn, JsonColumn } from './columns.js';

/** A chapter as stored: the wall-clock instant (ISO-8601) of the title change and the title and category it set. */
export interface StoredChapter {
  at: string;
  title: string;
  category: string;
}

/** `readmodels.vod_channels`: per channel, the title and category in force and the broadcast on air (the VODs' fold). */
export interface VodChannelsTable {
  channel_id: string;
  title: string;
  category: string;
  /** The broadcast on air, null when offline: title changes while it is set are its chapters. */
  live_broadcast_id: string | null;
}

/**
 * `readmodels.vods`: one row per broadcast from its start; a VOD once `recorded_at` is set (BroadcastRecorded); gone
 * once its recording is deleted (BroadcastRecordingDeleted).
 */
export interface VodsTable {
  /** The broadcast id. */
  id: string;
  channel_id: string;
  username: string;
  /** Title and category when the broadcast started ('' when unset). */
  title: string;
  category: string;
  /** Title changes while live, the first being the title at the start. */
  chapters: JsonColumn<StoredChapter[]>;
  started_at: Date;
  ended_at: Date | null;
  recorded_at: Date | null;
  duration_ms: BigIntColumn | null;
  bytes: BigIntColumn | null;
  renditions: ColumnType<RecordedRendition[] | null, string | null, string | null>;
  timeline: ColumnType<TimelineRun[] | null, string | null, string | null>;
  thumbnail: ColumnType<boolean, boolean | undefined, boolean>;
}

/** `readmodels.clips`: one row per clip not deleted. */
export interface ClipsTable {
  id: string;
  channel_id: string;
  username: string;
  broadcast_id: string;
  title: string;
  created_by: string;
  created_by_name: string;
  /** `occurredAt` of ClipCreated. */
  created_at: Date;
  /** Media time of the clip's first frame within the recording. */
  start_offset_ms: BigIntColumn;
  duration_ms: BigIntColumn;
  /** Program date time of the clip's first frame. */
  started_at: Date;
  from_live: boolean;
  bytes: BigIntColumn;
}

/** The recording tables (merged into the read model's DB type). */
export interface VodTables {
  vod_channels: VodChannelsTable;
  vods: VodsTable;
  clips: ClipsTable;
}
